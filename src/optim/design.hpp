#pragma once
// Space-filling samples of a search space, feasible by construction.

#include <Eigen/Core>

#include "gpbo/space.hpp"
#include "numerics/sobol.hpp"

namespace gpbo {

/// The next n points of `sobol` (which must have space.encoded_dim() dimensions), mapped to
/// feasible encodings: ints and floats from their own coordinates, and each categorical from
/// its first one-hot coordinate (choice floor(u k)), so that choices are stratified like any
/// other coordinate instead of taken as the argmax of k correlated coordinates.
Eigen::MatrixXd sample_space(const Space& space, SobolSampler& sobol, int n);

}  // namespace gpbo
