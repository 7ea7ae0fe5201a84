#pragma once
// A stored study's configuration read once per call (space, options, engine state), the log
// entries its calls append, and the leases of its running trials.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/engine_state.hpp"
#include "gpbo/options.hpp"
#include "gpbo/space.hpp"
#include "gpbo/storage.hpp"
#include "gpbo/trial.hpp"

namespace gpbo {

/// The parsed StudyInfo of a stored study.
struct StoredStudy {
  Space space;
  StudyOptions options;
  PersistenceOptions persistence;
  EngineState state;

  /// Parses `info` (the direction column is the study's direction). InvalidArgument if a
  /// stored field is malformed.
  static StoredStudy load(const StudyInfo& info);
};

/// A log entry of `event` on trial `t`.
LogEntry log_entry(double now, const char* event, const Trial& t, const nlohmann::json& detail);

/// Renews the lease of running trial `t` from `now`.
void renew_lease(Trial* t, const PersistenceOptions& p, double now);

/// Marks RUNNING trials whose lease ran out as FAILED (logged "expire"), and queues their points
/// again (source "requeued") when `p.requeue_expired`.
void settle_expired(StudyTransaction& tx, const PersistenceOptions& p, EngineState* state,
                    double now);

/// Whether an ask on this snapshot has to write anything besides its new trials: an expired
/// lease to settle, or a running trial of `worker_id` to hand back.
bool needs_settling(const std::vector<Trial>& stored, const std::string& worker_id, double now);

}  // namespace gpbo
