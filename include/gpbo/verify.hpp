#pragma once
/// Checking a stored study against its tamper-evident log: the hash chain of the log entries
/// (log_entry_hash in gpbo/storage.hpp), and the trials table against a replay of the log.

#include <cstdint>
#include <string>

#include "gpbo/storage.hpp"

namespace gpbo {

/// What verify_study found. `ok` is true when nothing is wrong; otherwise `problem` names the
/// first thing that is.
struct VerifyReport {
  bool ok = true;
  /// Log entries checked (all of them when the chain holds).
  std::int64_t entries = 0;
  /// Trials in the trials table.
  std::int64_t trials = 0;
  /// The hash of the last entry of the chain: keep it (an export records it) to pin the log as
  /// it is now; "" for an empty log.
  std::string head;
  /// "" when ok; else "hash" (an entry's content does not match its hash), "prev_hash" (an
  /// entry is not chained to the one before it), "sequence" (an entry is missing, repeated or
  /// out of order), "trial" (the trials table disagrees with the log) or "log" (an entry that
  /// cannot be replayed).
  std::string kind;
  /// The log entry at fault: its position in the log (0 = oldest), its sequence number as
  /// stored and its event; -1, -1, "" for a problem of the trials table.
  std::int64_t position = -1;
  std::int64_t seq = -1;
  std::string event;
  /// The trial at fault (-1 if none) and, for kind "trial", the field that differs: "params",
  /// "state", "value", "values", "intermediate" or "" (a trial missing from the table or from
  /// the log).
  std::int64_t trial_id = -1;
  std::string field;
  /// One line saying what is wrong and where ("" when ok).
  std::string message;
};

/// Verifies a study, reading its log and trials in one snapshot: every entry's sequence number
/// is its position, its prev_hash is the previous entry's hash and its hash is log_entry_hash of
/// its content; then the log is replayed (ask and import create trials with their params;
/// report adds an intermediate value; tell, fail, prune and expire finish them) and every
/// trial's params, state, value(s) and intermediate values must equal the trials table's. Stops at
/// the first problem. Throws NotFound for an unknown study and the store's errors; a damaged study
/// is a report with ok = false, not an exception. A log rewritten consistently from some entry on
/// (every later hash recomputed) verifies: only a head kept elsewhere (an export, a copy) pins it.
VerifyReport verify_study(Storage& storage, const std::string& study);

}  // namespace gpbo
