#include "service/error_table.hpp"

namespace gpbo::service {
namespace {

// Exit codes: 2 is bad input (an unusable device included: the caller asked for it), 3 a
// missing object or a conflict with what is recorded, 4 a bug, 5 the store, 6 a numerical
// failure. HTTP: 4xx for the client's mistakes; 503 when the store or the device is not there
// (retry later); 500 otherwise.
constexpr ErrorMapping kTable[] = {
    {ErrorKind::kInvalidArgument, 2, "error", 400, 1},
    {ErrorKind::kNotFound, 3, "not found", 404, 2},
    {ErrorKind::kConflict, 3, "conflict", 409, 3},
    {ErrorKind::kNumerical, 6, "numerical error", 500, 4},
    {ErrorKind::kBackendUnavailable, 2, "device unavailable", 503, 5},
    {ErrorKind::kStorage, 5, "storage error", 503, 6},
    {ErrorKind::kInternal, 4, "internal error", 500, 7},
};

}  // namespace

const ErrorMapping& error_mapping(ErrorKind kind) {
  for (const ErrorMapping& m : kTable) {
    if (m.kind == kind) return m;
  }
  return kTable[sizeof(kTable) / sizeof(kTable[0]) - 1];
}

}  // namespace gpbo::service
