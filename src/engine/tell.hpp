#pragma once
// The rules of a result reported for a trial, written once for Study and PersistentStudy so
// that both answer every tell the same way.

#include <cstdint>
#include <string>

#include "gpbo/metrics.hpp"
#include "gpbo/trial.hpp"

namespace gpbo {

/// Throws InvalidArgument unless `value` is finite (a trial without a value is reported as
/// FAILED).
void check_value(double value);
/// Throws InvalidArgument unless `state` is FAILED or PRUNED, the states a tell can set.
void check_final_state(TrialState state);
/// "trial 3 is already complete with value 0.5": the Conflict message of a finished trial.
std::string already_finished(const Trial& t);

/// Completes `t` with `value` at time `now`. Returns true when `t` changed (it was RUNNING);
/// false for a repeat of the same value, or a finished trial left alone by `skip_if_finished`.
/// Throws InvalidArgument for a non-finite value (a trial without a value is reported as
/// FAILED), Conflict for a trial finished otherwise (another value, failed, pruned) unless
/// `skip_if_finished`. Nothing changes when it throws.
bool apply_value(Trial* t, double value, bool skip_if_finished, double now);

/// The name of the classic study's one metric, in a tell of named values: {"value": 0.5}.
inline constexpr const char* kValueMetric = "value";

/// A result's values checked against the study's metrics: every metric (Metrics::names(), or
/// "value" in the classic study) present, no other, each finite. InvalidArgument naming what
/// is missing, unknown or not finite.
void check_values(const Metrics& metrics, const MetricValues& values);
/// A plain value as named values: the study's one metric. InvalidArgument when the study
/// measures several (they are told together).
MetricValues values_of(const Metrics& metrics, double value);

/// Completes `t` with named values, by the rules of apply_value (the same values again: no
/// change; other values: Conflict unless `skip_if_finished`). The classic study stores the
/// "value"; a study with metrics stores every value, and its one objective's as the value.
bool apply_values(Trial* t, const Metrics& metrics, const MetricValues& values,
                  bool skip_if_finished, double now);

/// Finishes `t` as FAILED or PRUNED (InvalidArgument for another state), by the same rules. A
/// trial PRUNED after reporting intermediate values keeps its last one as its value.
bool apply_state(Trial* t, TrialState state, bool skip_if_finished, double now);

/// Adds the intermediate value (`step`, `value`) to running trial `t`. Returns true when `t`
/// changed; false for a repeat of its last report (a retried request). InvalidArgument for a
/// non-finite value, a negative step, or a step not after the trial's last one; Conflict for a
/// finished trial. Nothing changes when it throws.
bool apply_report(Trial* t, std::int64_t step, double value);
/// InvalidArgument unless the study measures one objective: intermediate values are the
/// objective's.
void check_reportable(const Metrics& metrics);

}  // namespace gpbo
