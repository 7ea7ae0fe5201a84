#pragma once
/// One evaluation of the objective: the trial record every layer shares (the in-memory Study,
/// the stores, the front doors' JSON form).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gpbo/metrics.hpp"
#include "gpbo/space.hpp"

namespace gpbo {

/// RUNNING until a result comes: COMPLETE (with a value), FAILED (no value: a crash, a lease
/// that ran out) or PRUNED (stopped early).
enum class TrialState { kRunning, kComplete, kFailed, kPruned };
/// "running", "complete", "failed" (or "fail"), "pruned". Throws InvalidArgument.
TrialState parse_trial_state(const std::string& text);
std::string to_string(TrialState s);

/// One intermediate value of a running trial (early stopping): the objective at a step (an
/// epoch, a number of samples seen), as the trial reported it.
struct IntermediateValue {
  std::int64_t step = 0;
  double value = 0.0;
  bool operator==(const IntermediateValue& o) const { return step == o.step && value == o.value; }
  bool operator!=(const IntermediateValue& o) const { return !(*this == o); }
};

/// One trial. Times are seconds since the Unix epoch (0 when not set).
struct Trial {
  /// Study-local number: 0, 1, 2, ... in creation order.
  std::int64_t id = 0;
  /// The point, one value per parameter of the space.
  Params params;
  TrialState state = TrialState::kRunning;
  /// The objective value, set once the trial is complete (always finite). In a study with
  /// metrics (gpbo/metrics.hpp): the objective's value when there is one objective, unset when
  /// there are several.
  std::optional<double> value;
  /// In a study with metrics, a complete trial's value of every metric (finite); empty in the
  /// classic study.
  MetricValues values;
  /// The intermediate values the trial reported while it ran, steps strictly increasing
  /// (Study::report). A PRUNED trial with some keeps its last one as its `value`.
  std::vector<IntermediateValue> intermediate;
  /// Where the point came from: "initial" (the Sobol design), "model", "enqueued", "requeued"
  /// (an expired trial's point asked again), "reevaluation" (drift: the incumbent evaluated
  /// again, StudyOptions::drift) or "restored" (added from elsewhere).
  std::string source;
  /// Who asked for it (a stored study's worker id; empty when anonymous).
  std::string worker_id;
  double created_at = 0.0;
  double finished_at = 0.0;
  double heartbeat_at = 0.0;
  /// A RUNNING trial of a stored study whose lease_deadline has passed is expired.
  double lease_deadline = 0.0;
};

/// A re-evaluation of the incumbent judged by the drift check (StudyOptions::drift): at the
/// first model fit after it completed, its standardized leave-one-out residual z = (value -
/// prediction) / predictive sd, the prediction and sd those of the fitted GP from every other
/// observation with the time input held equal for all (what the model would predict had
/// nothing changed), in the model's standardized units; positive when the value came out
/// higher than predicted. A shift when |z| > drift.shift_threshold.
struct DriftCheck {
  std::int64_t trial_id = 0;
  double z = 0.0;
  bool shift = false;
};

}  // namespace gpbo
