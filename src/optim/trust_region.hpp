#pragma once
// The geometry and the bookkeeping of a TuRBO trust region (Eriksson et al. 2019, "Scalable
// Global Optimization via Local Bayesian Optimization"): a box around the incumbent shaped by
// the GP lengthscales, candidates that perturb a few coordinates of the centre, and the
// grow/shrink rule. The Study decides when to apply them.

#include <Eigen/Core>
#include <random>

#include "gpbo/space.hpp"
#include "gpbo/trust_region.hpp"

namespace gpbo {

/// TuRBO's failure tolerance for a problem of d parameters asked in batches of q:
/// ceil(max(4 / q, d / q)).
int default_failure_tolerance(int d, int q);

/// Counts one completed batch: a success resets the failure count and after
/// `o.success_tolerance` successes in a row doubles L (capped at o.length_max); a failure resets
/// the success count and after `failure_tolerance` failures in a row halves L. Returns true when
/// L fell below o.length_min (the region has collapsed; the caller restarts it).
bool trust_region_count(TrustRegionState* s, bool success, int failure_tolerance,
                        const TrustRegionOptions& o);

/// The region as a 2 x D matrix [lower; upper] of encoded bounds: centre -+ L w_j / 2 with
/// w = lengthscales / their geometric mean, clipped to [0, 1]. An int dimension spans at least
/// one step either side (so it can still move when L is small); a categorical spans [0, 1] (a
/// choice has no distance: a moved categorical is redrawn).
Eigen::MatrixXd trust_region_bounds(const Space& space, const Eigen::VectorXd& center,
                                    const Eigen::VectorXd& lengthscales, double length);

/// True when the encoded point u lies in the box (within 1e-12).
bool in_box(const Eigen::MatrixXd& box, const Eigen::VectorXd& u);

/// n feasible candidates in the region: each copies the centre, then moves a random subset of
/// its parameters (each with probability min(1, 20 / #parameters), at least one) to the
/// coordinates of a scrambled Sobol point of the box; a moved categorical takes a uniformly
/// drawn choice. Rows are snapped to the space.
Eigen::MatrixXd trust_region_candidates(const Space& space, const Eigen::VectorXd& center,
                                        const Eigen::MatrixXd& box, int n, std::mt19937_64& rng);

}  // namespace gpbo
