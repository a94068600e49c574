#pragma once
/// @file version.hpp
/// @brief The library version.

/// @brief Major version.
#define MRSOLVE_VERSION_MAJOR 0
/// @brief Minor version.
#define MRSOLVE_VERSION_MINOR 1
/// @brief Patch version.
#define MRSOLVE_VERSION_PATCH 0
