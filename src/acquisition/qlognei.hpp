#pragma once
// qLogNEI: the log of the expected improvement of the best point of a batch over the best
// latent value at the observed (baseline) points, both under one joint posterior draw, by
// quasi-Monte-Carlo with fixed Sobol normal base samples and a softplus-smoothed improvement
// (Ament et al. 2023, "Unexpected Improvements to Expected Improvement", section 4).

#include <Eigen/Core>
#include <cstdint>

namespace gpbo {

class Backend;
class PosteriorFactor;

struct QLogNeiOptions {
  /// QMC draws (Sobol points mapped through the normal quantile), fixed for one ask.
  int samples = 256;
  /// Softplus temperature of the improvement, in standardized units.
  double tau = 1e-3;
};

class QLogNei {
 public:
  /// `baseline` (b x d): observed points whose best latent value is the reference. `max_batch`
  /// bounds the batch sizes that value() and extend_scores() accept. Throws InvalidArgument.
  QLogNei(const Backend& backend, const PosteriorFactor& factor, Eigen::MatrixXd baseline,
          int max_batch, std::uint64_t seed, QLogNeiOptions options = {});

  /// qLogNEI of the batch S (k x d, 1 <= k <= max_batch), evaluated jointly.
  double value(const Eigen::MatrixXd& S) const;

  /// qLogNEI of [S; c] for every row c of C (m x d), sharing the draws of [baseline; S]
  /// (S may have 0 rows; S.rows() + 1 <= max_batch).
  Eigen::VectorXd extend_scores(const Eigen::MatrixXd& S, const Eigen::MatrixXd& C) const;

  /// log mean_s softplus_tau(I_s) for improvements I (one per draw), computed stably.
  static double log_mean_softplus(const Eigen::VectorXd& I, double tau);

 private:
  /// Joint draws of f at P = [baseline; S]: a |P| x samples matrix.
  Eigen::MatrixXd draws(const Eigen::MatrixXd& P, Eigen::MatrixXd* L) const;

  const Backend& backend_;
  const PosteriorFactor& factor_;
  Eigen::MatrixXd baseline_;
  int max_batch_;
  QLogNeiOptions options_;
  Eigen::MatrixXd Z_;  // (b + max_batch) x samples standard normal base samples
};

}  // namespace gpbo
