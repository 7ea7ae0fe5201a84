#pragma once
// The one table of how the front doors report an error: the CLI's exit code and stderr label,
// `gpbo serve`'s HTTP status (its body's code is to_string(ErrorKind)), and the C API's status.
// tests/service/error_table_test.cpp walks every ErrorKind through all three front doors.

#include <exception>

#include "gpbo/error.hpp"

namespace gpbo::service {

struct ErrorMapping {
  ErrorKind kind;
  /// The exit code of the `gpbo` CLI.
  int exit_code;
  /// What the CLI writes before the message: "gpbo: <label>: <message>".
  const char* cli_label;
  /// The HTTP status of `gpbo serve`.
  int http_status;
  /// The C API's gpbo_status (include/gpbo/gpbo.h).
  int c_status;
};

/// The row of `kind`.
const ErrorMapping& error_mapping(ErrorKind kind);
/// The row of an exception (error_kind(e)).
inline const ErrorMapping& error_mapping(const std::exception& e) {
  return error_mapping(error_kind(e));
}

}  // namespace gpbo::service
