#pragma once
// Maximizes an acquisition function over the unit cube of a space: scrambled Sobol raw samples
// plus perturbations of the best observed points, scored in batches on the backend; the best
// few refined jointly by L-BFGS-B with analytic gradients (as BoTorch's optimize_acqf), with
// discrete dimensions held at feasible values.

#include <Eigen/Core>
#include <functional>
#include <random>

#include "backend/acquisition_functors.hpp"
#include "gpbo/acquisition.hpp"
#include "gpbo/space.hpp"

namespace gpbo {

class Backend;
class PosteriorFactor;

/// Candidates sorted by decreasing acquisition value (rows of X, encoded, feasible).
struct AcquisitionCandidates {
  Eigen::MatrixXd X;
  Eigen::VectorXd values;
};

/// The raw candidates the optimizer scores: options.raw_samples Sobol points of the space plus
/// options.perturbations_per_anchor perturbations of each of the first options.anchors rows of
/// `anchors`; all feasible.
Eigen::MatrixXd candidate_set(const Space& space, const Eigen::MatrixXd& anchors,
                              const AcquisitionOptimizerOptions& options, std::mt19937_64& rng);

/// `anchors` (k x D) are encoded points to perturb, best first. Returns refined points and
/// the best raw candidates (so a caller can skip duplicates), all snapped to the space.
AcquisitionCandidates optimize_acquisition(const Backend& backend, const PosteriorFactor& factor,
                                           const AcquisitionParams& acq, const Space& space,
                                           const Eigen::MatrixXd& anchors,
                                           const AcquisitionOptimizerOptions& options,
                                           std::mt19937_64& rng);

/// The same search over given raw candidates (feasible, inside the box), refining within the
/// encoded box `box` (2 x D: lower; upper), as a trust region needs.
AcquisitionCandidates optimize_acquisition_in_box(const Backend& backend,
                                                  const PosteriorFactor& factor,
                                                  const AcquisitionParams& acq, const Space& space,
                                                  const Eigen::MatrixXd& raw,
                                                  const Eigen::MatrixXd& box,
                                                  const AcquisitionOptimizerOptions& options);

/// An acquisition to maximize, as a function of encoded points: its values at the rows of X
/// (m x D) and, when `grad` is not null, their gradients in x (m x D).
using AcquisitionFunction =
    std::function<void(const Eigen::MatrixXd& X, Eigen::VectorXd* values, Eigen::MatrixXd* grad)>;

/// The same search for an acquisition computed on the host from several models (a study with
/// metrics): every raw candidate scored by `f`, the best refined by L-BFGS-B in `box`.
AcquisitionCandidates optimize_function_in_box(const AcquisitionFunction& f, const Space& space,
                                               const Eigen::MatrixXd& raw,
                                               const Eigen::MatrixXd& box,
                                               const AcquisitionOptimizerOptions& options);

/// The unit cube as a box (2 x dim: lower; upper).
Eigen::MatrixXd unit_box(int dim);

}  // namespace gpbo
