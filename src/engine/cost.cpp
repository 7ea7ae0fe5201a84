// study_cost (gpbo/study.hpp): the compute a study used, from its trials' times and reports.
#include <algorithm>

#include "gpbo/study.hpp"

namespace gpbo {

StudyCost study_cost(const std::vector<Trial>& trials, double now) {
  StudyCost c;
  std::int64_t longest = 0;
  for (const Trial& t : trials) {
    ++c.trials;
    switch (t.state) {
      case TrialState::kComplete:
        ++c.complete;
        break;
      case TrialState::kPruned:
        ++c.pruned;
        break;
      case TrialState::kFailed:
        ++c.failed;
        break;
      case TrialState::kRunning:
        ++c.running;
        break;
    }
    // Trials restored or imported without times add nothing.
    if (t.created_at > 0.0) {
      const double end = t.state == TrialState::kRunning ? now : t.finished_at;
      if (end > t.created_at) c.trial_seconds += end - t.created_at;
    }
    if (!t.intermediate.empty()) {
      ++c.reporting;
      c.steps += t.intermediate.back().step;
      longest = std::max(longest, t.intermediate.back().step);
    }
  }
  c.steps_full = c.reporting * longest;
  return c;
}

}  // namespace gpbo
