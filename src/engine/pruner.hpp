#pragma once
// Early stopping: the rules that answer a trial's intermediate value (Study::report) with
// whether to stop it, written once for Study and PersistentStudy. A rule is a function of the
// trials' states and intermediate values only, so the answer is deterministic for a history.

#include <cstdint>
#include <vector>

#include "gpbo/options.hpp"
#include "gpbo/trial.hpp"

namespace gpbo {

/// Whether `t` is training data of the model: a COMPLETE trial, or a PRUNED one that kept its
/// last intermediate value as its value (as Optuna's GPSampler models pruned trials).
bool models_value(const Trial& t);

/// Whether the rule of `options` stops trial `id` of `trials` after its latest intermediate
/// value (the last of its `intermediate`); false when it has none, or for PrunerRule::kNone.
///
/// kMedian (Optuna's MedianPruner): with s the step of that value, prune when s >=
/// warmup_steps, at least startup_trials trials are COMPLETE, one of them reported a value at
/// step s, and the trial's best value so far is worse than the median of the COMPLETE trials'
/// values at step s.
///
/// kAsha (asynchronous successive halving, Li et al. 2020, as Optuna's SuccessiveHalvingPruner):
/// rungs at the steps r_k = min_resource * eta^k. A trial's value at rung k is its first value
/// at a step >= r_k. Only the report that takes a trial past a rung decides: among the values
/// at that rung of every trial that reached it (this one included, n in all), the trial goes on
/// when its value is at least as good as the max(1, floor(n / eta))-th best, and is pruned
/// otherwise. Every other report answers false.
///
/// Direction-aware: `direction` says which values are better. Throws NotFound for an unknown id.
bool should_prune(const PrunerOptions& options, Direction direction,
                  const std::vector<Trial>& trials, std::int64_t id);

}  // namespace gpbo
