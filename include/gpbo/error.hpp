#pragma once
/// Typed errors: every failure the library reports is a `gpbo::Error`. The front doors turn them
/// into exit codes, HTTP statuses and C status codes through one table
/// (src/service/error_table.hpp), keyed by ErrorKind.

#include <exception>
#include <stdexcept>
#include <string>

namespace gpbo {

/// Base of every exception thrown by gpbo. Thrown as itself, it is an internal error (a bug,
/// such as an illegal argument to a LAPACK or cuSOLVER call).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A caller passed something malformed or out of range (bad space JSON, unknown option).
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// A referenced object (trial, study, function name) does not exist.
class NotFound : public Error {
 public:
  using Error::Error;
};

/// The request contradicts recorded state (e.g. a second tell with a different value).
class Conflict : public Error {
 public:
  using Error::Error;
};

/// A numerical failure that the library could not rescue (e.g. Cholesky after the jitter ladder).
class NumericalError : public Error {
 public:
  using Error::Error;
};

/// The requested backend is not compiled in, no device is visible, or the device failed (a
/// CUDA, cuBLAS or cuSOLVER call returned an error: a CUDA context is unusable after a fault).
class BackendUnavailable : public Error {
 public:
  using Error::Error;
};

/// A persistent store failed (reserved for the storage layer).
class StorageError : public Error {
 public:
  using Error::Error;
};

/// One value per error type above; kInternal for the base Error and for any other exception.
enum class ErrorKind {
  kInvalidArgument,
  kNotFound,
  kConflict,
  kNumerical,
  kBackendUnavailable,
  kStorage,
  kInternal,
};

/// Every ErrorKind, in declaration order (for tables and tests).
inline constexpr ErrorKind kAllErrorKinds[] = {
    ErrorKind::kInvalidArgument, ErrorKind::kNotFound,           ErrorKind::kConflict,
    ErrorKind::kNumerical,       ErrorKind::kBackendUnavailable, ErrorKind::kStorage,
    ErrorKind::kInternal};

/// "invalid_argument", "not_found", "conflict", "numerical_error", "backend_unavailable",
/// "storage_error", "internal": the `code` of the HTTP API's error bodies. Throws
/// InvalidArgument for another name.
ErrorKind parse_error_kind(const std::string& text);
std::string to_string(ErrorKind kind);

/// The kind of `e`: its gpbo type, or kInternal (a base Error, std::bad_alloc, any other).
inline ErrorKind error_kind(const std::exception& e) noexcept {
  if (dynamic_cast<const InvalidArgument*>(&e)) return ErrorKind::kInvalidArgument;
  if (dynamic_cast<const NotFound*>(&e)) return ErrorKind::kNotFound;
  if (dynamic_cast<const Conflict*>(&e)) return ErrorKind::kConflict;
  if (dynamic_cast<const NumericalError*>(&e)) return ErrorKind::kNumerical;
  if (dynamic_cast<const BackendUnavailable*>(&e)) return ErrorKind::kBackendUnavailable;
  if (dynamic_cast<const StorageError*>(&e)) return ErrorKind::kStorage;
  return ErrorKind::kInternal;
}

/// Throws an exception of kind `kind` with `message` (kInternal throws the base Error).
[[noreturn]] inline void throw_error(ErrorKind kind, const std::string& message) {
  switch (kind) {
    case ErrorKind::kInvalidArgument:
      throw InvalidArgument(message);
    case ErrorKind::kNotFound:
      throw NotFound(message);
    case ErrorKind::kConflict:
      throw Conflict(message);
    case ErrorKind::kNumerical:
      throw NumericalError(message);
    case ErrorKind::kBackendUnavailable:
      throw BackendUnavailable(message);
    case ErrorKind::kStorage:
      throw StorageError(message);
    case ErrorKind::kInternal:
      break;
  }
  throw Error(message);
}

}  // namespace gpbo
