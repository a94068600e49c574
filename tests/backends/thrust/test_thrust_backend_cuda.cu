// The Thrust backend tests on the CUDA device system: the shared source, compiled by nvcc (Thrust's
// default device system under nvcc is CUDA). Run only where a GPU is present (see CMakeLists.txt).
#include "test_thrust_backend.cpp"
