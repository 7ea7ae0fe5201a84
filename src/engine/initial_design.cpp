// The initial design of a Study: the centre of the box, then scrambled Sobol points, each new;
// and the walk that finds the last free points of a nearly used-up discrete space.
#include <algorithm>
#include <optional>
#include <vector>

#include "engine/pruner.hpp"
#include "gpbo/error.hpp"
#include "gpbo/study.hpp"
#include "numerics/sobol.hpp"
#include "optim/design.hpp"

namespace gpbo {

int default_initial_design_size(int d) { return std::clamp(d + 2, 5, 20); }

bool Study::in_initial_design() const {
  // Enqueued trials count toward the initial design (as in Optuna); failed ones do not, pruned
  // ones with a value do (they are modelled).
  std::size_t complete = 0, running = 0;
  for (const Trial& t : trials_) {
    complete += models_value(t);
    running += t.state == TrialState::kRunning;
  }
  // A warm start whose prior the last fit refused (weight 0) is a cold study: its design goes on.
  const bool refused = transfer_weight_ && *transfer_weight_ == 0.0 && options_.n_initial <= 0;
  const int n = refused ? std::max(n_initial_, default_initial_design_size(space_.encoded_dim()))
                        : n_initial_;
  return static_cast<int>(complete + running) < n || complete == 0;
}

Eigen::VectorXd Study::suggest_initial() {
  // The centre of the box first (as Vizier does), then scrambled Sobol points.
  for (int attempt = 0; attempt < 1000; ++attempt) {
    // A warm-started study begins at the best point of the earlier study, then goes on as a
    // cold one (the centre, then Sobol points): a refused prior leaves a cold start plus a point.
    const std::int64_t k = design_index_++ - (warm_sources_.empty() ? 0 : 1);
    Eigen::VectorXd u = k < 0 ? transferred_start()
                        : k == 0
                            ? Eigen::VectorXd::Constant(space_.encoded_dim(), 0.5)
                            : Eigen::VectorXd(sample_space(space_, *design_, 1).row(0).transpose());
    space_.snap(u);
    if (!is_duplicate(u)) return u;
  }
  // Random draws keep colliding: only a nearly used-up discrete space gets here. Walk it in
  // order so that the last free points are found too.
  if (space_.all_discrete()) {
    if (auto u = first_unused_discrete_point()) return *u;
  }
  throw Conflict("search space exhausted: no unsuggested point left");
}

std::optional<Eigen::VectorXd> Study::first_unused_discrete_point() const {
  constexpr double kMaxWalk = 1e6;  // larger spaces are never used up by random collisions
  std::vector<std::int64_t> size(space_.size()), digit(space_.size(), 0);
  double total = 1.0;
  for (std::size_t p = 0; p < space_.size(); ++p) {
    const ParamSpec& s = space_.params()[p];
    size[p] = s.type == ParamType::kCategorical
                  ? static_cast<std::int64_t>(s.choices.size())
                  : static_cast<std::int64_t>(s.high) - static_cast<std::int64_t>(s.low) + 1;
    total *= static_cast<double>(size[p]);
  }
  if (total > kMaxWalk) return std::nullopt;
  for (std::int64_t k = 0; k < static_cast<std::int64_t>(total); ++k) {
    Params point;
    for (std::size_t p = 0; p < space_.size(); ++p) {
      const ParamSpec& s = space_.params()[p];
      if (s.type == ParamType::kCategorical) {
        point[s.name] = s.choices[static_cast<std::size_t>(digit[p])];
      } else {
        point[s.name] = static_cast<std::int64_t>(s.low) + digit[p];
      }
    }
    const Eigen::VectorXd u = space_.encode(space_.active_only(point));
    if (!is_duplicate(u) && space_.admits(u)) return u;
    for (std::size_t p = 0; p < space_.size() && ++digit[p] == size[p]; ++p) digit[p] = 0;
  }
  return std::nullopt;
}

}  // namespace gpbo
