#pragma once
/// @file traits.hpp
/// @brief The backend customisation point `backend_traits<State>` and the State concepts; they live in
/// concepts/state.hpp, which this header includes (for code that specialises a backend next to the
/// backends shipped here).

#include "../concepts/state.hpp"
