#include "acquisition/thompson.hpp"

#include "backend/backend.hpp"

namespace gpbo {

Eigen::MatrixXd draw_joint_posterior(const Backend& backend, const PosteriorFactor& factor,
                                     const Eigen::MatrixXd& C, int samples, std::mt19937_64& rng) {
  Eigen::VectorXd mean;
  factor.predict(C, &mean, nullptr);
  const Eigen::MatrixXd L = backend.cholesky(factor.covariance(C, C));
  std::normal_distribution<double> normal;
  Eigen::MatrixXd Z(C.rows(), samples);
  for (Eigen::Index k = 0; k < Z.cols(); ++k) {
    for (Eigen::Index i = 0; i < Z.rows(); ++i) Z(i, k) = normal(rng);
  }
  Eigen::MatrixXd F = L.triangularView<Eigen::Lower>() * Z;
  F.colwise() += mean;
  return F;
}

std::vector<Eigen::Index> thompson_select(const Backend& backend, const PosteriorFactor& factor,
                                          const Eigen::MatrixXd& C, int q, std::vector<bool> taken,
                                          std::mt19937_64& rng) {
  std::vector<Eigen::Index> chosen;
  if (C.rows() == 0) return chosen;
  const Eigen::MatrixXd F = draw_joint_posterior(backend, factor, C, q, rng);
  for (int k = 0; k < q; ++k) {
    Eigen::Index best = -1;
    for (Eigen::Index i = 0; i < C.rows(); ++i) {
      if (!taken[static_cast<std::size_t>(i)] && (best < 0 || F(i, k) > F(best, k))) best = i;
    }
    if (best < 0) break;  // every candidate is taken
    taken[static_cast<std::size_t>(best)] = true;
    chosen.push_back(best);
  }
  return chosen;
}

}  // namespace gpbo
