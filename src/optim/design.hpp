#pragma once
// Space-filling samples of a search space, feasible by construction.

#include <Eigen/Core>

#include "gpbo/space.hpp"
#include "numerics/sobol.hpp"

namespace gpbo {

/// The next n points of `sobol` (which must have space.encoded_dim() dimensions), mapped to
/// feasible encodings: ints and floats from their own coordinates, and each categorical from
/// its first one-hot coordinate (choice floor(u k)), so that choices are stratified like any
/// other coordinate instead of taken as the argmax of k correlated coordinates. With linear
/// constraints, a point outside them is drawn again (up to kRejectionTries draws; then the
/// last draw is pulled inside by Space::snap), so the points spread over the feasible set
/// rather than piling up on its boundary.
Eigen::MatrixXd sample_space(const Space& space, SobolSampler& sobol, int n);

/// Draws per point of sample_space before a constrained point is pulled inside instead.
inline constexpr int kRejectionTries = 32;

}  // namespace gpbo
