// Warm starts: matching an earlier study to a new space by parameter name, and the Study's
// transferred prior (model/prior_mean: a stack of residual GPs, one level per source).
#include "engine/warm_start.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <variant>

#include "gpbo/error.hpp"
#include "gpbo/study.hpp"
#include "model/prior_mean.hpp"

namespace gpbo {
namespace {

bool numeric(const ParamValue& v) { return !std::holds_alternative<std::string>(v); }

double as_double(const ParamValue& v) {
  if (const auto* d = std::get_if<double>(&v)) return *d;
  return static_cast<double>(std::get<std::int64_t>(v));
}

/// Whether a source value can be a value of `spec` (kind only).
bool same_kind(const ParamSpec& spec, const ParamValue& v) {
  return (spec.type == ParamType::kCategorical) == !numeric(v);
}

/// The source value as a value of `spec`, or false when outside its bounds or choices.
bool convert(const ParamSpec& spec, const ParamValue& v, ParamValue* out) {
  if (spec.type == ParamType::kCategorical) {
    const std::string& s = std::get<std::string>(v);
    if (std::find(spec.choices.begin(), spec.choices.end(), s) == spec.choices.end()) return false;
    *out = s;
    return true;
  }
  const double x = as_double(v);
  if (!std::isfinite(x)) return false;
  if (spec.type == ParamType::kInt) {
    const double r = std::round(x);
    if (r < spec.low || r > spec.high) return false;
    *out = static_cast<std::int64_t>(r);
    return true;
  }
  if (x < spec.low || x > spec.high) return false;
  *out = x;
  return true;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

}  // namespace

MatchedSource match_source(const Space& space, const WarmStartSource& source) {
  const std::string where = "warm start from '" + source.study + "'";
  if (source.observations.empty()) {
    throw InvalidArgument(where + ": the source has no complete trial to learn from");
  }
  MatchedSource m;
  // The kind of each source parameter: that of its first value.
  std::map<std::string, ParamValue> first;
  for (const WarmStartObservation& o : source.observations) {
    for (const auto& [name, v] : o.params) first.emplace(name, v);
  }
  std::vector<bool> shared(space.size(), false);
  for (std::size_t i = 0; i < space.size(); ++i) {
    const ParamSpec& s = space.params()[i];
    const auto it = first.find(s.name);
    shared[i] = it != first.end() && same_kind(s, it->second);
    (shared[i] ? m.shared : m.added).push_back(s.name);
    if (!shared[i]) continue;
    const int width = s.type == ParamType::kCategorical ? static_cast<int>(s.choices.size()) : 1;
    for (int j = 0; j < width; ++j) m.columns.push_back(space.offset(i) + j);
  }
  for (const auto& [name, v] : first) {
    if (std::find(m.shared.begin(), m.shared.end(), name) == m.shared.end()) {
      m.dropped.push_back(name);
    }
  }
  if (m.shared.empty()) {
    std::vector<std::string> mine;
    for (const ParamSpec& s : space.params()) mine.push_back(s.name);
    throw InvalidArgument(where +
                          ": no parameter of the source matches one of the new space by "
                          "name and kind (the source has " +
                          joined(m.dropped) + "; the new space has " + joined(mine) + ")");
  }
  // A filler for the parameters the source does not know: the centre of the box.
  const Params centre = space.decode(Eigen::VectorXd::Constant(space.encoded_dim(), 0.5));
  const std::size_t n = source.observations.size();
  const std::size_t start = n > kMaxSourceObservations ? n - kMaxSourceObservations : 0;
  std::vector<Eigen::VectorXd> rows;
  std::vector<double> values;
  for (std::size_t k = start; k < n; ++k) {
    const WarmStartObservation& o = source.observations[k];
    if (!std::isfinite(o.value)) continue;
    Params p = centre;
    bool inside = true;
    for (std::size_t i = 0; i < space.size() && inside; ++i) {
      if (!shared[i]) continue;
      const ParamSpec& s = space.params()[i];
      const auto it = o.params.find(s.name);
      inside =
          it != o.params.end() && same_kind(s, it->second) && convert(s, it->second, &p[s.name]);
    }
    Eigen::VectorXd u;
    if (inside) {
      try {
        u = space.encode(p);
      } catch (const InvalidArgument&) {
        inside = false;  // off a stepped parameter's grid
      }
    }
    if (!inside) {
      ++m.outside;
      continue;
    }
    rows.push_back(std::move(u));
    values.push_back(source.direction == Direction::kMaximize ? o.value : -o.value);
  }
  if (rows.empty()) {
    throw InvalidArgument(
        where + ": none of its " + std::to_string(n - start) +
        " observations lies inside the new space (shared parameters: " + joined(m.shared) + ")");
  }
  m.X.resize(static_cast<Eigen::Index>(rows.size()), space.encoded_dim());
  m.y.resize(static_cast<Eigen::Index>(rows.size()));
  for (std::size_t r = 0; r < rows.size(); ++r) {
    m.X.row(static_cast<Eigen::Index>(r)) = rows[r].transpose();
    m.y(static_cast<Eigen::Index>(r)) = values[r];
  }
  return m;
}

void check_warm_start(const Space& space, const std::vector<WarmStartSource>& sources) {
  std::set<std::string> names;
  for (const WarmStartSource& s : sources) {
    if (!names.insert(s.study).second) {
      throw InvalidArgument("warm start: the source '" + s.study + "' is listed twice");
    }
    match_source(space, s);
  }
}

void Study::warm_start_from(std::vector<WarmStartSource> sources) {
  if (!trials_.empty()) {
    throw InvalidArgument("warm_start_from: the study already has trials (warm start it first)");
  }
  if (uses_metric_model()) {
    throw InvalidArgument(
        "warm start: studies with outcome constraints or several objectives are not supported");
  }
  if (drift_on() && !sources.empty()) {
    throw InvalidArgument(
        "warm start: a study with drift cannot be warm-started (earlier studies have no time "
        "on this study's clock); set drift to off");
  }
  check_warm_start(space_, sources);
  warm_sources_ = std::move(sources);
  prior_.reset();
  // The source's best point, then Sobol points up to the fewest observations with which the
  // marginal likelihood can refuse the prior (kMinGateObservations): a source that misleads is
  // found out before the model relies on it alone.
  if (!warm_sources_.empty() && options_.n_initial <= 0) {
    n_initial_ = std::min<int>(n_initial_, static_cast<int>(kMinGateObservations));
  }
}

void Study::set_prior_hyperparameters(std::vector<GpHyperparameters> h) {
  prior_hyper_ = std::move(h);
  prior_.reset();
}

const StackedPrior& Study::transfer_prior() {
  if (prior_) return *prior_;
  auto prior =
      std::make_shared<StackedPrior>(options_.gp, options_.device, options_.score_precision);
  for (std::size_t k = 0; k < warm_sources_.size(); ++k) {
    const MatchedSource m = match_source(space_, warm_sources_[k]);
    // The source's values get the new study's output warping, on their own.
    const Eigen::VectorXd y =
        warp_outputs(to_safe_magnitude(m.y), options_.output_warping, options_.warp_strength,
                     options_.robust != RobustMode::kOff);
    const GpHyperparameters* fixed = k < prior_hyper_.size() ? &prior_hyper_[k] : nullptr;
    prior->add_level(m.X, m.columns, y, options_.seed + 7919 * (k + 1), fixed);
  }
  prior_hyper_ = prior->hyperparameters();
  prior_ = std::move(prior);
  return *prior_;
}

Eigen::VectorXd Study::transferred_start() const {
  // The best observation of the last source, in the new space (its unknown parameters at the
  // centre): the first point of a warm-started study.
  const MatchedSource m = match_source(space_, warm_sources_.back());
  Eigen::Index best = 0;
  m.y.maxCoeff(&best);
  Eigen::VectorXd u = m.X.row(best).transpose();
  space_.snap(u);
  return u;
}

}  // namespace gpbo
