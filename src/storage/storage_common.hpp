#pragma once
// Helpers shared by the stores (defined in storage.cpp): validation of what is written and the
// JSON form of trial parameters. Both stores run every write through the same checks, so a
// write that one store accepts the other accepts too, and reads give back identical values.

#include <string>

#include "gpbo/space.hpp"
#include "gpbo/storage.hpp"

namespace gpbo::storage_detail {

/// Seconds since the Unix epoch.
double now_seconds();

/// The JSON object form of `params`: floats as JSON numbers, ints as JSON integers,
/// categoricals as strings. Each value must have its parameter's kind in `space` (an integral
/// double is accepted for an int, an int for a float); parameters that `space` does not name are
/// written by their own type. Throws InvalidArgument for a non-finite float or a value of the
/// wrong kind.
std::string params_to_json(const Params& params, const Space& space);

/// Parses params_to_json's form back, typing each value by its parameter in `space`. Throws
/// StorageError when the text is not such an object (a damaged store).
Params params_from_json(const std::string& text, const Space& space);

/// Parses a study's stored space; StorageError when it does not parse (a damaged store).
Space stored_space(const StudyInfo& info);

/// Validates a trial before it is written (id >= 0; finite value and times) and returns its
/// params in JSON form. Throws InvalidArgument naming the study and trial.
std::string check_trial(const StoredTrial& trial, const Space& space, const std::string& study);

/// Throws InvalidArgument unless `text` is valid JSON; `what` names it in the message.
void check_json(const std::string& text, const std::string& what);

/// Validates a log entry (finite time, JSON detail) before it is written.
void check_log_entry(const LogEntry& entry, const std::string& study);

/// Validates a new study and returns it as stored: the space must parse, the JSON fields must be
/// JSON, and a created_at of 0 becomes the current time. Throws InvalidArgument.
StudyInfo prepare_new_study(const StudyInfo& info);

/// The "create" log entry of a new study (as returned by prepare_new_study).
LogEntry create_log_entry(const StudyInfo& info);

}  // namespace gpbo::storage_detail
