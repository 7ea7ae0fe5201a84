#pragma once
// The surrogate of a study with outcome constraints or several objectives: one GP per metric
// over the same inputs, each with its own hyperparameters, and the acquisition over them:
//   - one objective: LogEI (or log PI) of the objective against the best feasible value, plus
//     the log probability of feasibility of every constraint (Gardner et al. 2014, in log
//     space as in BoTorch); with no feasible trial yet, the log probability of feasibility
//     alone;
//   - several objectives: the exact log expected hypervolume improvement over the feasible
//     Pareto front (independent posteriors, box decomposition; Daulton et al. 2020, Ament et
//     al. 2023 for the log form), plus the same log probability of feasibility.
// Everything is computed in the model's space: metric values standardized by their GP, every
// objective oriented to be maximized. The single objective is output-warped as in the classic
// study unless it is itself constrained; several objectives and every constrained metric are
// only standardized, so that bounds and reference points map exactly.

#include <Eigen/Core>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "acquisition/pareto.hpp"
#include "gpbo/gp.hpp"
#include "gpbo/options.hpp"
#include "gpbo/trial.hpp"

namespace gpbo {

class Backend;
class LogEhvi;
class PosteriorFactor;

class MetricModel {
 public:
  /// One GP per metric of `options.metrics` (which must declare constraints or several
  /// objectives), on `options.device`.
  explicit MetricModel(const StudyOptions& options);
  ~MetricModel();

  /// Fits every metric's GP to the rows of X (encoded inputs) and the trials' values (each row's
  /// trial complete, with every metric), warm-started from the last fit's hyperparameters.
  /// With `fixed` hyperparameters for a metric, conditions on them instead.
  void fit(const Eigen::MatrixXd& X, const std::vector<const Trial*>& trials, std::uint64_t seed);
  /// Wall seconds the last fit() spent factoring the metrics' data (the rest was searches).
  double factor_seconds() const { return factor_seconds_; }

  /// Conditions every metric on points whose results are pending (running trials, earlier points
  /// of this batch) at their posterior means (kriging believer); a point believed feasible joins
  /// the incumbent (one objective) or the front (several).
  void fantasize(const Eigen::MatrixXd& Xp);

  /// The acquisition (higher is better) at the rows of X and, when `grad` is not null, its
  /// gradient in x. Finite for every finite input.
  void score(const Eigen::MatrixXd& X, Eigen::VectorXd* values, Eigen::MatrixXd* grad) const;

  /// Thompson batch over the rows of C: `q` rows, each the best of one joint posterior draw of
  /// every metric (the best sampled objective among sampled-feasible rows; with several
  /// objectives, the largest hypervolume improvement over the front, to which each pick adds
  /// its draw; with none feasible, the smallest total violation). Rows marked in `taken` are
  /// never picked. Returns fewer when fewer rows are free.
  std::vector<Eigen::Index> thompson(const Eigen::MatrixXd& C, int q, std::vector<bool> taken,
                                     std::mt19937_64& rng) const;

  /// Whether some observed trial is feasible (else the acquisition seeks feasibility alone).
  bool has_feasible() const { return has_feasible_; }
  /// Whether the fits look noisy (the noise explains more than 5% of some objective's
  /// variance): the incumbent, or the front, is then made of posterior means.
  bool noisy() const { return noisy_; }
  /// The last fit's hyperparameters of each metric (the next fit's warm start).
  std::map<std::string, GpHyperparameters> hyperparameters() const;
  /// Warm starts for the next fit, by metric name (unknown names are ignored).
  void set_warm_starts(const std::map<std::string, GpHyperparameters>& hyper);
  /// Keeps these hyperparameters: the next fits condition on them instead of refitting.
  void fix_hyperparameters(const std::map<std::string, GpHyperparameters>& hyper);
  const Backend& backend() const;
  /// The model-space value of the observed points most likely best, best first (anchors of
  /// the acquisition search): feasible trials by objective (several: by Pareto rank, then the
  /// sum of objectives), then the others by violation.
  std::vector<Eigen::Index> ranking() const;

 private:
  struct Metric;
  /// Recomputes the incumbent or the front's boxes from the observed points and fantasies.
  void update_front();
  /// The objective vectors (model space, one row each) of the feasible observed points, then,
  /// with `with_pending`, of the fantasies believed feasible; `rows` receives the observed
  /// points' row indices.
  Eigen::MatrixXd front_points(bool with_pending, std::vector<Eigen::Index>* rows = nullptr) const;

  StudyOptions options_;
  std::vector<std::unique_ptr<Metric>> metrics_;  // in Metrics::names() order
  std::vector<int> objective_;                    // index into metrics_ per objective
  struct ModelConstraint {
    int metric;     // index into metrics_
    bool at_least;  // z >= bound (else z <= bound), in the model's space
    double bound;   // in the model's space
  };
  std::vector<ModelConstraint> constraints_;
  Eigen::MatrixXd X_;                    // observed inputs
  std::vector<bool> observed_feasible_;  // by the raw values
  Eigen::MatrixXd observed_;             // n x metrics, model space (observed or posterior means)
  Eigen::MatrixXd pending_;              // fantasized objective vectors believed feasible
  bool has_feasible_ = false;
  bool noisy_ = false;
  double best_f_ = 0.0;            // one objective: the incumbent
  BoxDecomposition boxes_;         // several objectives (up to three)
  std::unique_ptr<LogEhvi> ehvi_;  // over boxes_
  Eigen::VectorXd reference_;      // several objectives, model space
  double factor_seconds_ = 0.0;
};

}  // namespace gpbo
