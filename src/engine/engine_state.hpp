#pragma once
// The engine state a stored study carries between asks (StudyInfo::state_json): the queue of
// points to ask first, the last fit's hyperparameters (the next fit's warm start) and the trust
// regions.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "gpbo/kernel.hpp"
#include "gpbo/space.hpp"
#include "gpbo/trial.hpp"
#include "gpbo/trust_region.hpp"
#include "gpbo/warm_start.hpp"

namespace gpbo {

struct EngineState {
  /// A point to ask before any suggestion, with the trial source it will get.
  struct QueuedPoint {
    Params params;
    /// "enqueued" or "requeued".
    std::string source;
  };
  std::vector<QueuedPoint> queue;
  std::optional<GpHyperparameters> hyper;
  /// The complete trials `hyper` was fitted on (0: unknown): a cold ask refits only once the
  /// data has grown by the refit rule (refit_due) since then.
  std::int64_t hyper_n = 0;
  /// A study with constraints or several objectives: each metric's last fit, by name.
  std::map<std::string, GpHyperparameters> metric_hyper;
  std::vector<TrustRegionState> trust_regions;
  /// The trial ids the last model fit left out as outliers (Study::outliers()).
  std::vector<std::int64_t> outliers;
  /// The earlier studies the study was warm-started from, copied at its creation
  /// (Study::warm_start_from), and the fits of the transferred prior's levels.
  std::vector<WarmStartSource> warm_start;
  std::vector<GpHyperparameters> prior_hyper;
  /// The transferred prior's weight in the last model fit (Study::last_transfer_weight).
  std::optional<double> transfer_weight;

  /// Drift: the re-evaluations judged so far (Study::drift_checks), shifts among them.
  std::vector<DriftCheck> drift_checks;

  /// Reads state_json; the points are typed by `space`. InvalidArgument if malformed.
  static EngineState parse(const std::string& text, const Space& space);
  /// The JSON text: {"queue": [{"params", "source"}], "hyper": {...}, "metric_hyper": {"acc":
  /// {...}}, "trust_region": {...}, "warm_start": [{"study", "direction", "observations"}],
  /// "prior_hyper": [{...}], "drift_checks": [{"trial", "z", "shift"}]}
  /// (one region in the single-object form earlier versions read; "trust_regions": [...] for
  /// several).
  std::string dump() const;
};

}  // namespace gpbo
