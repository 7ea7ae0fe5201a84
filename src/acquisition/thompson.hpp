#pragma once
// Thompson sampling over a candidate set: exact joint posterior draws (never independent
// marginals), each draw's maximizer one batch point.

#include <Eigen/Core>
#include <random>
#include <vector>

namespace gpbo {

class Backend;
class PosteriorFactor;

/// `samples` joint draws of the latent f at the rows of C (m x d): an m x samples matrix,
/// mean + chol(Sigma) Z with Z standard normal from `rng`. Throws NumericalError.
Eigen::MatrixXd draw_joint_posterior(const Backend& backend, const PosteriorFactor& factor,
                                     const Eigen::MatrixXd& C, int samples, std::mt19937_64& rng);

/// Thompson batch: row indices of C, one per draw, each the maximizer of its draw among rows
/// not taken yet (`taken[i]` marks rows that may not be chosen: duplicates of trials). Returns
/// fewer than q indices when fewer rows are free.
std::vector<Eigen::Index> thompson_select(const Backend& backend, const PosteriorFactor& factor,
                                          const Eigen::MatrixXd& C, int q, std::vector<bool> taken,
                                          std::mt19937_64& rng);

}  // namespace gpbo
