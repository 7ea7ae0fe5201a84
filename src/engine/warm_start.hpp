#pragma once
// Warm starts (gpbo/warm_start.hpp): an earlier study's observations matched to a new space by
// parameter name, as training data of one level of the transferred prior (model/prior_mean).

#include <Eigen/Core>
#include <string>
#include <vector>

#include "gpbo/space.hpp"
#include "gpbo/warm_start.hpp"

namespace gpbo {

/// An earlier study's observations in a new space's encoding.
struct MatchedSource {
  /// The encoded columns of the new space that the source's shared parameters cover.
  std::vector<int> columns;
  /// One row per kept observation, the new space's full encoding; the columns of parameters the
  /// source does not know are at the centre (the prior ignores them).
  Eigen::MatrixXd X;
  /// The kept values, internally maximized (negated for a minimizing source).
  Eigen::VectorXd y;
  /// The shared parameters, those only in the new space, those only in the source (or of
  /// another kind); by name.
  std::vector<std::string> shared, added, dropped;
  /// Observations left out: outside the new bounds, choices or grid, or lacking a shared
  /// parameter.
  std::size_t outside = 0;
};

/// At most this many observations of one source are used (its last ones): the prior's levels
/// are conditioned at every ask.
constexpr std::size_t kMaxSourceObservations = 1000;

/// Matches `source` to `space` (see WarmStartSource). Throws InvalidArgument naming the source
/// when no parameter is shared or no observation is left.
MatchedSource match_source(const Space& space, const WarmStartSource& source);

}  // namespace gpbo
