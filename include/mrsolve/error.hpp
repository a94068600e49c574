#pragma once
/// @file error.hpp
/// @brief Exception types thrown by mrsolve and the helpers that format their messages.

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace mrsolve {

/// @brief Thrown when an argument or a configuration is invalid; the message names the offending value.
class invalid_argument : public std::invalid_argument {
public:
    /// @brief Creates the exception with a message that names the offending value.
    /// @param what the message
    explicit invalid_argument(const std::string& what) : std::invalid_argument(what) {}
};

/// @brief Thrown when sampling produces a NaN or an infinity; carries the step at which it appeared.
class non_finite_error : public std::runtime_error {
public:
    /// @brief Creates the exception.
    /// @param what the message (it names the step and the time)
    /// @param step the 1-based step index at which the non-finite value was detected
    /// @param time the time of the state that was being computed or evaluated
    non_finite_error(const std::string& what, int step, double time)
        : std::runtime_error(what), step_(step), time_(time) {}
    /// @brief The 1-based step index at which the non-finite value was detected.
    /// @return the step index
    [[nodiscard]] int step() const noexcept { return step_; }
    /// @brief The time at which the non-finite value was detected.
    /// @return the time, in the units of the coefficient family
    [[nodiscard]] double time() const noexcept { return time_; }

private:
    int step_;
    double time_;
};

namespace detail {

/// Builds a message from streamable parts; used only on the error path.
template <class... Parts>
[[nodiscard]] std::string message(const Parts&... parts) {
    std::ostringstream out;
    out.precision(17);
    (out << ... << parts);
    return out.str();
}

/// Throws mrsolve::invalid_argument with a message made of the given parts.
template <class... Parts>
[[noreturn]] void throw_invalid(const Parts&... parts) {
    throw invalid_argument(message(parts...));
}

}  // namespace detail
}  // namespace mrsolve
