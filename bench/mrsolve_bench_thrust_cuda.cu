// The CUDA build of mrsolve_bench_thrust.cpp (nvcc; Thrust's default device system is CUDA).
#include "mrsolve_bench_thrust.cpp"
