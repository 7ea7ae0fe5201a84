#pragma once
/// Test problems with several metrics at once: multi-objective problems with a hypervolume
/// reference point, and constrained problems, for demos, tests and the multi-objective
/// benchmark. Every objective is minimized; constraints are outcome constraints on metrics of
/// their own. Single-objective functions are gpbo/test_functions.hpp.

#include <Eigen/Core>
#include <string>
#include <vector>

#include "gpbo/metrics.hpp"
#include "gpbo/space.hpp"
#include "gpbo/test_functions.hpp"

namespace gpbo {

/// A problem on a box whose evaluation reports every metric of metrics() by name.
class TestProblem {
 public:
  /// Builds a problem by name (case-insensitive; '-' and '_' are ignored, so "Branin-Currin" and
  /// "C2-DTLZ2" work):
  ///   branincurrin           d = 2; objectives "branin", "currin"
  ///   zdt1                   d >= 2 (default 6); objectives "f1", "f2"
  ///   dtlz2                  d >= 4 (default 6); objectives "f1", "f2", "f3"
  ///   c2dtlz2                d >= 3 (default 4, BoTorch's tutorial); objectives "f1", "f2";
  ///                          constraint "c" >= 0
  ///   constrained-hartmann6  d = 6; objective "hartmann6"; constraint "norm" <= 1
  ///   gramacy                d = 2; objective "f"; constraints "c1" <= 0, "c2" <= 0
  /// `dim` = 0 picks the default. Throws InvalidArgument for an unknown name or a dimension the
  /// problem does not support.
  static TestProblem make(const std::string& name, int dim = 0);
  /// All names accepted by make(), in their canonical spelling.
  static std::vector<std::string> names();

  /// The canonical name (one of names()).
  const std::string& name() const { return name_; }
  int dim() const { return static_cast<int>(lower_.size()); }
  const Eigen::VectorXd& lower() const { return lower_; }
  const Eigen::VectorXd& upper() const { return upper_; }
  /// The metrics to declare for a study of this problem: the objectives (all minimized) and the
  /// outcome constraints, each on a metric of its own.
  const Metrics& metrics() const { return metrics_; }
  /// Every metric of metrics().names() at x (length dim(), in the original box). Throws
  /// InvalidArgument for a wrong length.
  MetricValues operator()(const Eigen::Ref<const Eigen::VectorXd>& x) const;
  /// The hypervolume reference point, one coordinate per objective in the order of
  /// metrics().objectives, in the objectives' own units (an upper bound on each, as all are
  /// minimized): BoTorch's published points. Empty for a single-objective problem.
  const Eigen::VectorXd& reference_point() const { return reference_point_; }
  /// Multi-objective: the maximum hypervolume of the feasible objective space w.r.t.
  /// reference_point() (exact where a closed form exists, else computed; see the .cpp).
  /// Single-objective: the minimum feasible objective value. NaN when not known.
  double best_known() const { return best_known_; }
  /// A space of float parameters x0 ... x{d-1} over the problem's box.
  Space space() const;
  /// Reads x0 ... x{d-1} from a point of space(). Throws InvalidArgument when one is missing.
  Eigen::VectorXd to_vector(const Params& p) const;

 private:
  enum class Kind { kBraninCurrin, kZdt1, kDtlz2, kC2Dtlz2, kConstrainedHartmann6, kGramacy };
  Kind kind_ = Kind::kBraninCurrin;
  std::string name_;
  Eigen::VectorXd lower_, upper_, reference_point_;
  Metrics metrics_;
  double best_known_ = 0.0;
  TestFunction single_;  // Branin (of BraninCurrin) or Hartmann6, the repo's own definitions
};

}  // namespace gpbo
