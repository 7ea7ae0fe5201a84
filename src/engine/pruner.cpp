// The pruning rules (engine/pruner.hpp): Optuna's median rule and asynchronous successive
// halving, direction-aware, on the trials' intermediate values.
#include "engine/pruner.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>

#include "gpbo/error.hpp"

namespace gpbo {
namespace {

/// The trial's value at exactly `step`, if it reported one (steps are strictly increasing).
std::optional<double> value_at(const Trial& t, std::int64_t step) {
  const auto it =
      std::lower_bound(t.intermediate.begin(), t.intermediate.end(), step,
                       [](const IntermediateValue& v, std::int64_t s) { return v.step < s; });
  if (it == t.intermediate.end() || it->step != step) return std::nullopt;
  return it->value;
}

/// The trial's first value at a step >= `rung`: its value at that rung.
std::optional<double> value_at_rung(const Trial& t, std::int64_t rung) {
  const auto it =
      std::lower_bound(t.intermediate.begin(), t.intermediate.end(), rung,
                       [](const IntermediateValue& v, std::int64_t s) { return v.step < s; });
  if (it == t.intermediate.end()) return std::nullopt;
  return it->value;
}

bool median_prunes(const PrunerOptions& o, bool minimize, const std::vector<Trial>& trials,
                   const Trial& t) {
  const std::int64_t step = t.intermediate.back().step;
  if (step < o.warmup_steps) return false;
  std::vector<double> others;
  int complete = 0;
  for (const Trial& u : trials) {
    if (u.state != TrialState::kComplete || u.id == t.id) continue;
    ++complete;
    if (const auto v = value_at(u, step)) others.push_back(*v);
  }
  if (complete < o.startup_trials || others.empty()) return false;
  std::sort(others.begin(), others.end());
  const std::size_t n = others.size();
  const double median = n % 2 == 1 ? others[n / 2] : 0.5 * (others[n / 2 - 1] + others[n / 2]);
  double best = t.intermediate.front().value;
  for (const IntermediateValue& v : t.intermediate) {
    best = minimize ? std::min(best, v.value) : std::max(best, v.value);
  }
  return minimize ? best > median : best < median;
}

bool asha_prunes(const PrunerOptions& o, bool minimize, const std::vector<Trial>& trials,
                 const Trial& t) {
  const std::int64_t step = t.intermediate.back().step;
  const double value = t.intermediate.back().value;
  const std::int64_t previous = t.intermediate.size() >= 2
                                    ? t.intermediate[t.intermediate.size() - 2].step
                                    : std::numeric_limits<std::int64_t>::min();
  const std::int64_t eta = o.reduction_factor;
  for (std::int64_t rung = o.min_resource; rung <= step;) {
    if (previous < rung) {  // this report takes the trial past the rung
      std::vector<double> competing;
      for (const Trial& u : trials) {
        if (u.id == t.id) continue;
        if (const auto v = value_at_rung(u, rung)) competing.push_back(*v);
      }
      competing.push_back(value);
      if (minimize) {
        std::sort(competing.begin(), competing.end());
      } else {
        std::sort(competing.begin(), competing.end(), std::greater<double>());
      }
      const std::size_t keep =
          std::max<std::size_t>(1, competing.size() / static_cast<std::size_t>(eta));
      const double threshold = competing[keep - 1];
      if (minimize ? value > threshold : value < threshold) return true;
    }
    if (rung > std::numeric_limits<std::int64_t>::max() / eta) break;
    rung *= eta;
  }
  return false;
}

}  // namespace

bool models_value(const Trial& t) {
  return t.state == TrialState::kComplete || (t.state == TrialState::kPruned && t.value);
}

bool should_prune(const PrunerOptions& options, Direction direction,
                  const std::vector<Trial>& trials, std::int64_t id) {
  const auto it =
      std::find_if(trials.begin(), trials.end(), [id](const Trial& t) { return t.id == id; });
  if (it == trials.end()) throw NotFound("trial " + std::to_string(id) + " does not exist");
  const Trial& t = *it;
  if (t.intermediate.empty()) return false;
  const bool minimize = direction == Direction::kMinimize;
  switch (options.rule) {
    case PrunerRule::kNone:
      return false;
    case PrunerRule::kMedian:
      return median_prunes(options, minimize, trials, t);
    case PrunerRule::kAsha:
      return asha_prunes(options, minimize, trials, t);
  }
  return false;
}

}  // namespace gpbo
