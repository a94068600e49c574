#pragma once
/// @file host_device.hpp
/// @brief `MRSOLVE_HOST_DEVICE`: marks a function as callable from host and device code.
///
/// Under a CUDA compiler (`__CUDACC__` defined) the macro expands to `__host__ __device__`; everywhere
/// else it expands to nothing, so plain C++ builds never see a vendor keyword. A translation unit may
/// define `MRSOLVE_HOST_DEVICE` itself before including any mrsolve header (for example for HIP).
///
/// Functions marked with it must stay free of exceptions, heap allocation, virtual calls and
/// `std::function`. The mrsolve functions so marked use `std::array` and `std::span`; with nvcc that
/// needs `--expt-relaxed-constexpr` for their constexpr members to be callable on the device.

#ifndef MRSOLVE_HOST_DEVICE
#if defined(__CUDACC__)
#define MRSOLVE_HOST_DEVICE __host__ __device__
#else
#define MRSOLVE_HOST_DEVICE
#endif
#endif
