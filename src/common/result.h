// Errors as values. Failures of devices, the network and the database are expected: they travel
// as Result<T> and end as a clear answer to the caller, a ticket or a retry.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace atrium {

// The kinds of failure the API distinguishes. Each maps to one HTTP status (see api/errors).
enum class ErrorCode {
  kInvalidArgument,  // the caller sent something malformed or out of range (400)
  kNotFound,         // the named thing does not exist (404)
  kConflict,         // a unique constraint or a state rule was violated (409)
  kUnavailable,      // a dependency (the database) cannot be reached right now (503)
  kReadOnly,         // the database accepts no writes (a replica) (503)
  kPayloadTooLarge,  // 413
  kUnauthorized,     // 401
  kForbidden,        // 403
  kMethodNotAllowed, // 405
  kTimeout,          // 504/408
  kTooManyRequests,  // a rate limit refused it for now (429)
  kInternal,         // a bug or an unexpected failure (500)
};

std::string_view errorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // For conflicts and invalid arguments: the field at fault (e.g. "name"), empty otherwise.
  std::string field;

  static Error invalid(std::string message, std::string field = {}) {
    return {ErrorCode::kInvalidArgument, std::move(message), std::move(field)};
  }
  static Error notFound(std::string message) { return {ErrorCode::kNotFound, std::move(message), {}}; }
  static Error conflict(std::string message, std::string field = {}) {
    return {ErrorCode::kConflict, std::move(message), std::move(field)};
  }
  static Error unavailable(std::string message) {
    return {ErrorCode::kUnavailable, std::move(message), {}};
  }
  static Error internal(std::string message) { return {ErrorCode::kInternal, std::move(message), {}}; }
};

// A value or an error. Deliberately small: ok(), value(), error(), and operator* / ->.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

inline Status okStatus() { return {}; }

}  // namespace atrium

// Propagates the error of an expression returning Result<...>/Status from the current function.
#define ATRIUM_TRY(expr)                          \
  do {                                            \
    auto atrium_try_result_ = (expr);             \
    if (!atrium_try_result_.ok()) {               \
      return atrium_try_result_.error();          \
    }                                             \
  } while (false)

// Unwraps an expression returning Result<T> into `lhs` (e.g. `auto page`), or returns its error
// from the current function.
#define ATRIUM_ASSIGN_OR_RETURN(lhs, expr) \
  ATRIUM_ASSIGN_OR_RETURN_IMPL_(ATRIUM_CONCAT_(atrium_result_, __LINE__), lhs, expr)
#define ATRIUM_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr);                                  \
  if (!result.ok()) return result.error();               \
  lhs = std::move(result).value()
#define ATRIUM_CONCAT_(a, b) ATRIUM_CONCAT_IMPL_(a, b)
#define ATRIUM_CONCAT_IMPL_(a, b) a##b
