#pragma once
/// The report of a study: one self-contained HTML page (inline CSS and SVG, no script, no
/// network access, prints cleanly) for the people the results are for. It says in sentences
/// what the best configuration is, how much it beats the initial design and the median trial,
/// how many trials ran and failed, the compute they used and whether the study still improves;
/// then shows the progress, which parameters matter (from a GP fitted to the results), how the
/// important ones act (slices of the model through the best point), all trials at once
/// (parallel coordinates), the provenance (options, engine version, who reported what, the
/// log's size, a SHA-256 digest of the trial data) and the top trials.

#include <cstddef>
#include <string>
#include <vector>

#include "gpbo/options.hpp"
#include "gpbo/space.hpp"
#include "gpbo/trial.hpp"

namespace gpbo {

class Study;
class PersistentStudy;

/// What a report is made of.
struct ReportInput {
  std::string name = "study";
  Space space;
  /// The study's options (its direction and seed included).
  StudyOptions options;
  PersistenceOptions persistence;
  std::vector<Trial> trials;
  /// Entries in the study's append-only log (0 for a study in memory, which keeps none).
  std::size_t log_entries = 0;
  /// Seconds since the Unix epoch (0 when unknown).
  double created_at = 0.0;
  /// The trials the model left out as outliers at the last model-based ask (Study::outliers()).
  std::vector<std::int64_t> outliers;
  /// Drift: the re-evaluations judged so far (Study::drift_checks()).
  std::vector<DriftCheck> drift_checks;
};

/// The HTML page. Never throws for a study's content (an empty study, only failed trials, one
/// or hundreds of parameters, any names: every text is escaped); a section that has nothing to
/// show says what is missing. Large studies stay fast and small: the model is fitted on at most
/// 500 trials (the best 100 and an even spread of the rest), the progress chart bins beyond
/// 2,000 trials, parallel coordinates draw at most 300 trials; counts and the top table always
/// cover every trial.
std::string render_report(const ReportInput& input);

/// The report of a study in memory (`name` titles it).
std::string render_report(const Study& study, const std::string& name = "study");
/// The report of a stored study (one snapshot of its trials and log).
std::string render_report(PersistentStudy& study);

/// The SHA-256 digest (hex) of a study's trial data as the report states it: every trial's id,
/// state, params and value (and, in a study with metrics, every metric's value), in id order.
/// Equal data give equal digests.
std::string trial_data_digest(const std::vector<Trial>& trials);

}  // namespace gpbo
