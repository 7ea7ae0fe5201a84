#include "engine/tell.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "gpbo/error.hpp"

namespace gpbo {
namespace {

/// A trial that is already finished: Conflict, or nothing when `skip_if_finished`.
bool finished(const Trial& t, bool skip_if_finished) {
  if (skip_if_finished) return false;
  throw Conflict(already_finished(t));
}

}  // namespace

void check_value(double value) {
  if (!std::isfinite(value)) {
    throw InvalidArgument(
        "tell: the value must be a finite number (report a trial that produced none as "
        "failed)");
  }
}

void check_final_state(TrialState state) {
  if (state != TrialState::kFailed && state != TrialState::kPruned) {
    throw InvalidArgument("tell: the state must be failed or pruned, not " + to_string(state));
  }
}

std::string already_finished(const Trial& t) {
  std::string m = "trial " + std::to_string(t.id) + " is already " + to_string(t.state);
  if (t.value) m += " with value " + nlohmann::json(*t.value).dump();
  return m;
}

bool apply_value(Trial* t, double value, bool skip_if_finished, double now) {
  check_value(value);
  if (t->state == TrialState::kComplete && t->value && *t->value == value) return false;
  if (t->state != TrialState::kRunning) return finished(*t, skip_if_finished);
  t->state = TrialState::kComplete;
  t->value = value;
  t->finished_at = now;
  return true;
}

bool apply_state(Trial* t, TrialState state, bool skip_if_finished, double now) {
  check_final_state(state);
  if (t->state == state) return false;
  if (t->state != TrialState::kRunning) return finished(*t, skip_if_finished);
  t->state = state;
  t->finished_at = now;
  return true;
}

}  // namespace gpbo
