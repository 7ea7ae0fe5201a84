#pragma once
// Scrambled Sobol points: Boost's Sobol sequence (Joe-Kuo direction numbers, up to 3667
// dimensions) randomized by a digital shift, so that each seed gives a different,
// still low-discrepancy design.

#include <Eigen/Core>
#include <boost/random/sobol.hpp>
#include <cstdint>
#include <vector>

namespace gpbo {

class SobolSampler {
 public:
  /// d in [1, 3667]; throws InvalidArgument otherwise.
  SobolSampler(int d, std::uint64_t seed);
  /// The next n points of the sequence, as an n x d matrix with entries in [0, 1).
  Eigen::MatrixXd draw(int n);
  int dim() const { return dim_; }

 private:
  int dim_;
  boost::random::sobol engine_;
  std::vector<std::uint64_t> shift_;
};

}  // namespace gpbo
