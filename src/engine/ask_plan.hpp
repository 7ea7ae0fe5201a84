#pragma once
// One ask of a stored study, planned from a snapshot of its data before anything is written:
// the engine's Study rebuilt from the stored trials, asked for q points, and the new RUNNING
// trials and engine state that would follow. PersistentStudy commits a plan when no other
// worker wrote in between (or plans inside its write transaction).

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "engine/stored_study.hpp"
#include "gpbo/kernel.hpp"
#include "gpbo/study.hpp"
#include "gpbo/trial.hpp"

namespace gpbo {

class WarmModel;

/// The outcome of one ask, computed from a study's data before it is written.
struct AskPlan {
  std::vector<Trial> trials;
  /// The engine state after the ask.
  EngineState state;
  /// What the model-based trials ran with (device, acquisition, batch method, ...) and where the
  /// ask's time went ("seconds": load, fit, factor, acquisition), for their log entries; null
  /// when no trial came from the model.
  nlohmann::json model;
  /// Seconds spent reading and rebuilding the study (the caller adds its read of the store),
  /// and the model's own split (Study::last_ask_split); written into `model` by apply_plan.
  double load_seconds = 0.0;
  AskSplit split;
  /// Drift: the shifts this ask's model fit found (logged as "shift" entries).
  std::vector<DriftCheck> shifts;
  double shift_threshold = 0.0;
};

/// The number of complete trials.
std::size_t count_complete(const std::vector<Trial>& trials);

/// The engine's Study rebuilt from a stored study's trials, with its trust regions (its queue
/// and warm start are left to the caller).
Study rebuild_study(const StoredStudy& stored, const std::vector<Trial>& trials);

/// Plans an ask of q points leased to `worker_id`. With a warm model holding hyperparameters,
/// or `fixed` ones, the GP is conditioned on them instead of refitted (from the warm model's
/// resident factor when it has one). Writes nothing; records the fit or the warm ask in `warm`
/// and gives it the ask's factor. `fixed_values` pins parameters for this ask
/// (Study::ask(q, fixed)).
AskPlan plan_ask(const StoredStudy& stored, const std::vector<Trial>& trials, int q,
                 const std::string& worker_id, double now, WarmModel* warm,
                 const std::optional<GpHyperparameters>& fixed = std::nullopt,
                 const Params& fixed_values = {});

/// Writes the plan's trials, their "ask" log entries (with the model's settings and the seconds
/// of the ask's stages: {"load", "fit", "factor", "acquisition"}, and "resident": whether the
/// factor was extended from an earlier ask's) and the engine state.
void apply_plan(StudyTransaction& tx, const AskPlan& plan, double now);

}  // namespace gpbo
