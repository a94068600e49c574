#pragma once
/// @file libtorch.hpp
/// @brief LibTorch adapter: `torch::Tensor` as a sampler state (backend/libtorch.hpp: CPU and CUDA, its
/// three execution paths and their costs) and `torchscript_model`, a network loaded from a TorchScript
/// file, as the model (adapters/torchscript_model.hpp). Link the CMake target `mrsolve::libtorch`.
///
/// Note: LibTorch's headers (through glog) define macros named `CHECK`, `CHECK_EQ`, … that abort the
/// program; a test framework with assertions of those names (doctest, Catch2) must be included after this
/// header, with those macros `#undef`-ined first (see tests/restore/test_libtorch_backend.cpp).

#include "../backend/libtorch.hpp"
#include "torchscript_model.hpp"
