#pragma once
/// Typed errors: every failure the library reports is a `gpbo::Error`.

#include <stdexcept>
#include <string>

namespace gpbo {

/// Base of every exception thrown by gpbo.
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

}  // namespace gpbo
