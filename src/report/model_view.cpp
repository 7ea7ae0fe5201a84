#include "report/model_view.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <numeric>
#include <optional>

#include "gpbo/gp.hpp"
#include "report/html.hpp"

namespace gpbo::report {
namespace {

/// Trials the report's model is fitted on, at most: the fit is O(n^3).
constexpr std::size_t kMaxFit = 500;
constexpr std::size_t kBestKept = 100;
/// Points along a numeric slice.
constexpr int kSlicePoints = 60;
/// Slices drawn: the most relevant parameters, as many as a reader compares at a glance.
constexpr std::size_t kMaxSlices = 4;

}  // namespace

double axis_value(const ParamSpec& spec, const ParamValue& v) {
  if (spec.type == ParamType::kCategorical) {
    const auto* s = std::get_if<std::string>(&v);
    if (s == nullptr) return 0.0;
    const auto it = std::find(spec.choices.begin(), spec.choices.end(), *s);
    return static_cast<double>(it - spec.choices.begin());
  }
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  return 0.0;
}

ModelView model_view(const Space& space, const std::vector<const Trial*>& complete, bool maximize,
                     const Params& best) {
  ModelView view;
  if (complete.size() < 3) {
    view.note = "The model needs at least 3 complete trials; this study has " +
                std::to_string(complete.size()) + ".";
    return view;
  }
  // The best trials, then an even spread of the others, in id order.
  std::vector<const Trial*> sorted = complete;
  std::stable_sort(sorted.begin(), sorted.end(), [&](const Trial* a, const Trial* b) {
    return maximize ? *a->value > *b->value : *a->value < *b->value;
  });
  std::vector<const Trial*> chosen;
  if (sorted.size() <= kMaxFit) {
    chosen = sorted;
  } else {
    chosen.assign(sorted.begin(), sorted.begin() + kBestKept);
    const std::size_t rest = sorted.size() - kBestKept, take = kMaxFit - kBestKept;
    for (std::size_t k = 0; k < take; ++k) chosen.push_back(sorted[kBestKept + k * rest / take]);
  }
  const int D = space.encoded_dim();
  Eigen::MatrixXd X(static_cast<Eigen::Index>(chosen.size()), D);
  Eigen::VectorXd y(static_cast<Eigen::Index>(chosen.size()));
  std::optional<GaussianProcess> fit;
  try {
    for (std::size_t i = 0; i < chosen.size(); ++i) {
      X.row(static_cast<Eigen::Index>(i)) = space.encode(chosen[i]->params).transpose();
      y(static_cast<Eigen::Index>(i)) = *chosen[i]->value;
    }
    GpOptions o;
    o.n_starts = 1;
    o.max_iterations = 60;
    fit.emplace(o, Device::cpu());
    fit->fit(X, y, /*seed=*/0);
  } catch (const std::exception& e) {
    view.note = std::string("The model could not be fitted: ") + e.what();
    return view;
  }
  const GaussianProcess& gp = *fit;
  view.fitted = true;
  view.note = "A Gaussian process (Matern-5/2, ARD) fitted to " +
              (chosen.size() == complete.size()
                   ? "all " + std::to_string(complete.size()) + " complete trials"
                   : std::to_string(chosen.size()) + " of the " + std::to_string(complete.size()) +
                         " complete trials (the best 100 and an even spread of the rest)") +
              ".";

  // Relevance: 1 / lengthscale of each encoded dimension (the model varies over distances of
  // a lengthscale in the unit cube); a categorical's is its most relevant choice's.
  const Eigen::VectorXd& ls = gp.hyperparameters().lengthscales;
  double total = 0.0;
  for (std::size_t p = 0; p < space.size(); ++p) {
    const ParamSpec& spec = space.params()[p];
    const int width =
        spec.type == ParamType::kCategorical ? static_cast<int>(spec.choices.size()) : 1;
    double r = 0.0;
    for (int j = 0; j < width; ++j) r = std::max(r, 1.0 / ls(space.offset(p) + j));
    view.importance.push_back({spec.name, r});
    total += r;
  }
  for (Importance& i : view.importance) i.share = total > 0 ? i.share / total : 0.0;
  std::stable_sort(view.importance.begin(), view.importance.end(),
                   [](const Importance& a, const Importance& b) { return a.share > b.share; });

  // A slice varies one parameter of the best point; it is undefined for a parameter inactive
  // there, and for a parent, whose values switch other parameters on and off.
  const auto sliceable = [&](const std::string& name) {
    if (!best.count(name)) return false;
    return std::none_of(space.params().begin(), space.params().end(),
                        [&](const ParamSpec& s) { return s.condition.parent == name; });
  };
  for (std::size_t k = 0, n = 0; k < view.importance.size() && n < kMaxSlices; ++k) {
    const std::string& name = view.importance[k].name;
    if (!sliceable(name)) continue;
    ++n;
    const ParamSpec* spec = nullptr;
    for (const ParamSpec& s : space.params()) {
      if (s.name == name) spec = &s;
    }
    Slice slice;
    slice.name = name;
    slice.categorical = spec->type == ParamType::kCategorical;
    slice.log = spec->log;
    std::vector<ParamValue> values;
    if (slice.categorical) {
      for (std::size_t c = 0; c < spec->choices.size(); ++c) {
        values.emplace_back(spec->choices[c]);
        slice.labels.push_back(spec->choices[c]);
      }
    } else if (spec->type == ParamType::kInt && spec->high - spec->low + 1 <= kSlicePoints) {
      for (double v = spec->low; v <= spec->high; v += 1.0) {
        values.emplace_back(static_cast<std::int64_t>(v));
      }
    } else {
      for (int i = 0; i < kSlicePoints; ++i) {
        const double t = static_cast<double>(i) / (kSlicePoints - 1);
        double v =
            spec->log
                ? std::exp(std::log(spec->low) + t * (std::log(spec->high) - std::log(spec->low)))
                : spec->low + t * (spec->high - spec->low);
        v = std::clamp(v, spec->low, spec->high);
        if (spec->type == ParamType::kInt) {
          values.emplace_back(static_cast<std::int64_t>(std::llround(v)));
        } else {
          values.emplace_back(v);
        }
      }
    }
    Eigen::MatrixXd Xc(static_cast<Eigen::Index>(values.size()), D);
    for (std::size_t i = 0; i < values.size(); ++i) {
      Params p = best;
      p[name] = values[i];
      Xc.row(static_cast<Eigen::Index>(i)) = space.encode(p).transpose();
      slice.x.push_back(axis_value(*spec, values[i]));
    }
    const Prediction pred = gp.predict(Xc);
    slice.mean.assign(pred.mean.data(), pred.mean.data() + pred.mean.size());
    slice.sd.assign(pred.stddev.data(), pred.stddev.data() + pred.stddev.size());
    view.slices.push_back(std::move(slice));
  }
  return view;
}

}  // namespace gpbo::report
