#pragma once
// A posterior factor kept between asks by a long-lived process (the warm model of
// PersistentStudy::keep_model_warm, what gpbo serve does). The Cholesky factor of K + noise I
// depends on the inputs and the hyperparameters only, never on the observed values: an ask
// appends the trials completed since (O(n^2) each) and re-solves for the current values (two
// triangular solves) instead of factoring all n trials again (O(n^3)).

#include <cstdint>
#include <memory>
#include <vector>

#include "backend/backend.hpp"
#include "gpbo/kernel.hpp"

namespace gpbo {

struct ResidentFactor {
  /// The hyperparameters the factor was made with (standardized scale).
  GpHyperparameters hyper;
  /// The trial of each row, in row order (complete trials only: fantasies are dropped before a
  /// factor is kept).
  std::vector<std::int64_t> trial_ids;
  std::unique_ptr<PosteriorFactor> factor;
};

/// Whether two sets of hyperparameters are the same, bit for bit (a factor is reused only under
/// exactly the hyperparameters it was made with).
inline bool same_hyperparameters(const GpHyperparameters& a, const GpHyperparameters& b) {
  return a.lengthscales.size() == b.lengthscales.size() && a.lengthscales == b.lengthscales &&
         a.outputscale == b.outputscale && a.noise == b.noise && a.mean == b.mean;
}

}  // namespace gpbo
