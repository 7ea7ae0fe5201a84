// The report page (gpbo/report.hpp): the summary in sentences, then one section per view, all
// inline (CSS and SVG), escaped, and bounded in size however many trials the study has.
#include "gpbo/report.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>

#include "codec/options_codec.hpp"
#include "common/json_text.hpp"
#include "common/sha256.hpp"
#include "engine/stored_study.hpp"
#include "gpbo/error.hpp"
#include "gpbo/persistent_study.hpp"
#include "gpbo/study.hpp"
#include "report/html.hpp"
#include "report/model_view.hpp"
#include "report/svg.hpp"
#include "space/params_json.hpp"

#ifndef GPBO_VERSION
#define GPBO_VERSION "unknown"
#endif

namespace gpbo {
namespace {

using nlohmann::json;
using report::esc;
using report::num;

/// The progress chart draws at most this many points (bins of trials beyond it).
constexpr std::size_t kMaxProgressPoints = 2000;
/// Parallel coordinates draw at most this many trials, and this many axes.
constexpr std::size_t kMaxLines = 300;
constexpr std::size_t kMaxAxes = 12;
/// The window of "still improving".
constexpr std::size_t kRecent = 20;
/// The summary names at most this many outlier trials.
constexpr std::size_t kMaxListedOutliers = 20;

/// "lr = 0.003162, layers = 4, opt = adam": floats to 7 significant digits (the top table has
/// them whole).
std::string params_text(const Params& p) {
  std::string out;
  for (const auto& [name, v] : p) {
    const auto* d = std::get_if<double>(&v);
    out += (out.empty() ? "" : ", ") + name + " = " + (d ? num(*d, 7) : to_string(v));
  }
  return out;
}

std::string utc(double seconds) {
  if (!(seconds > 0)) return "unknown";
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

struct Facts {
  bool maximize = false;
  std::vector<const Trial*> complete;  // id order
  /// The complete trials that meet every outcome constraint (all of them without constraints).
  std::vector<const Trial*> feasible;
  bool constrained = false;
  std::size_t failed = 0, pruned = 0, running = 0;
  const Trial* best = nullptr;
  double compute_seconds = 0.0;
  std::size_t timed = 0;
  bool better(double a, double b) const { return maximize ? a > b : a < b; }
};

Facts facts_of(const ReportInput& in) {
  Facts f;
  f.maximize = in.options.direction == Direction::kMaximize;
  f.constrained = !in.options.metrics.constraints.empty();
  for (const Trial& t : in.trials) {
    switch (t.state) {
      case TrialState::kComplete:
        if (t.value && std::isfinite(*t.value)) {
          f.complete.push_back(&t);
          if (!feasible(in.options.metrics, t.values)) break;
          f.feasible.push_back(&t);
          if (!f.best || f.better(*t.value, *f.best->value)) f.best = &t;
        }
        break;
      case TrialState::kFailed:
        ++f.failed;
        break;
      case TrialState::kPruned:
        ++f.pruned;
        break;
      case TrialState::kRunning:
        ++f.running;
        break;
    }
    // Durations that were recorded (an imported trial's times may be its import's instant).
    if (t.state != TrialState::kRunning && t.created_at > 0 && t.finished_at > t.created_at) {
      f.compute_seconds += t.finished_at - t.created_at;
      ++f.timed;
    }
  }
  return f;
}

// ---------------------------------------------------------------- sections

std::string section(const std::string& id, const std::string& title, const std::string& body) {
  return "<section id=\"" + id + "\"><h2>" + esc(title) + "</h2>" + body + "</section>\n";
}

std::string missing(const std::string& what) {
  return "<p class=\"missing\">" + esc(what) + "</p>";
}

std::string summary(const ReportInput& in, const Facts& f, const ParetoFront* front) {
  std::vector<std::string> s;
  const std::size_t n = in.trials.size();
  const Metrics& metrics = in.options.metrics;
  const char* kind = f.constrained ? "feasible" : "complete";
  if (front && !front->trials.empty()) {
    std::string names;
    for (const Objective& o : metrics.objectives) {
      names += (names.empty() ? "" : ", ") + o.name + " (" + to_string(o.direction) + "d)";
    }
    s.push_back("With several objectives (" + names +
                ") there is no one best configuration: the Pareto front, the " + kind +
                " trials no other beats in every objective, holds " +
                std::to_string(front->trials.size()) + " trial" +
                (front->trials.size() == 1 ? "" : "s") + ", with hypervolume " +
                num(front->hypervolume, 6) + " (see \"Several metrics\" below).");
  }
  if (front && f.best) {
    s.push_back("The views below follow the first objective, " + metrics.objectives[0].name +
                ": its best trial is " + std::to_string(f.best->id) + " (" +
                params_text(f.best->params) + "), with " + num(*f.best->value, 6) + ".");
  }
  if (n == 0) {
    s.push_back("This study has no trials yet: nothing has been evaluated.");
  } else if (!f.best && f.complete.empty()) {
    s.push_back("No trial has completed yet, so there is no best configuration.");
  } else if (!f.best) {
    s.push_back(
        "No complete trial meets every constraint yet, so there is no best "
        "configuration.");
  } else if (!front) {
    s.push_back("The best configuration so far is trial " + std::to_string(f.best->id) + " (" +
                params_text(f.best->params) + "), with value " + num(*f.best->value, 6) + " (" +
                (f.maximize ? "higher" : "lower") + " is better" +
                (f.constrained ? ", among the trials that meet every constraint" : "") + ").");
    // Against the initial design's best and the median trial.
    const Trial* first_best = nullptr;
    for (const Trial* t : f.feasible) {
      if (t->source != "initial") continue;
      if (!first_best || f.better(*t->value, *first_best->value)) first_best = t;
    }
    if (first_best && first_best != f.best) {
      const double gain = std::abs(*f.best->value - *first_best->value);
      s.push_back("It beats the best of the initial design (" + num(*first_best->value) + ") by " +
                  num(gain) +
                  (std::abs(*first_best->value) > 0
                       ? " (" + num(100.0 * gain / std::abs(*first_best->value), 3) + "%)"
                       : "") +
                  ".");
    } else if (first_best) {
      s.push_back("The best trial came from the initial design.");
    }
    std::vector<double> values;
    for (const Trial* t : f.complete) values.push_back(*t->value);
    std::sort(values.begin(), values.end());
    const double median = values[values.size() / 2];
    s.push_back("The median complete trial scored " + num(median) + ", " +
                num(std::abs(*f.best->value - median)) + " " + (f.maximize ? "below" : "above") +
                " the best.");
  }
  if (f.constrained && !f.complete.empty()) {
    std::string rules;
    for (const OutcomeConstraint& c : metrics.constraints) {
      rules +=
          (rules.empty() ? "" : ", ") + c.metric + " " + to_string(c.side) + " " + num(c.bound);
    }
    s.push_back(std::to_string(f.feasible.size()) + " of the " + std::to_string(f.complete.size()) +
                " complete trials meet every constraint (" + rules + ").");
  }
  if (n > 0) {
    s.push_back(std::to_string(n) + " trial" + (n == 1 ? "" : "s") +
                " ran: " + std::to_string(f.complete.size()) + " complete, " +
                std::to_string(f.failed) + " failed, " + std::to_string(f.pruned) + " pruned, " +
                std::to_string(f.running) + " still running.");
    if (!in.outliers.empty()) {
      std::string ids;
      for (std::size_t i = 0; i < in.outliers.size() && i < kMaxListedOutliers; ++i) {
        ids += (i ? ", " : "") + std::to_string(in.outliers[i]);
      }
      if (in.outliers.size() > kMaxListedOutliers) ids += ", ...";
      const std::size_t k = in.outliers.size();
      s.push_back(std::to_string(k) + " complete trial" +
                  (k == 1 ? "'s value looked" : "s' values looked") +
                  " implausible to the model, which left " + (k == 1 ? "it" : "them") +
                  " out (trial" + (k == 1 ? " " : "s ") + ids +
                  "); the values are kept as reported. Check them before trusting them.");
    }
    if (in.options.drift.mode != DriftMode::kOff) {
      std::string ids;
      std::size_t k = 0;
      for (const DriftCheck& c : in.drift_checks) {
        if (!c.shift) continue;
        ids += (k++ ? ", " : "") + std::to_string(c.trial_id);
      }
      const std::size_t m = in.drift_checks.size();
      s.push_back("Drift is on: " + std::to_string(m) + " re-evaluation" + (m == 1 ? "" : "s") +
                  " of the incumbent judged, " +
                  (k == 0 ? std::string("no shift")
                          : std::to_string(k) + " shift" + (k == 1 ? "" : "s") + " (trial" +
                                (k == 1 ? " " : "s ") + ids + ")") +
                  " beyond " + num(in.options.drift.shift_threshold) +
                  " standard deviations of the model's prediction.");
    }
    s.push_back(f.timed > 0 ? "Together they used " + report::duration(f.compute_seconds) +
                                  " of compute (the sum of " + std::to_string(f.timed) +
                                  " finished trials' durations)."
                            : "Their durations were not recorded.");
    // Early stopping: the steps the reporting trials ran, against running each to the end.
    const StudyCost cost = study_cost(in.trials, 0.0);
    if (cost.reporting > 0 && cost.steps_full > 0) {
      s.push_back(std::to_string(cost.reporting) + " trial" + (cost.reporting == 1 ? "" : "s") +
                  " reported intermediate values and ran " + std::to_string(cost.steps) +
                  " of the " + std::to_string(cost.steps_full) +
                  " steps they would have run to "
                  "the end (" +
                  std::to_string(100 * cost.steps / cost.steps_full) + "%); " +
                  std::to_string(f.pruned) + (f.pruned == 1 ? " was" : " were") +
                  " stopped early.");
    }
  }
  if (f.feasible.size() >= 2) {
    // Still improving: has the best changed within the last kRecent complete trials?
    const std::size_t from = f.feasible.size() > kRecent ? f.feasible.size() - kRecent : 0;
    std::size_t improvements = 0;
    const Trial* running_best = nullptr;
    for (std::size_t i = 0; i < f.feasible.size(); ++i) {
      const Trial* t = f.feasible[i];
      if (!running_best || f.better(*t->value, *running_best->value)) {
        running_best = t;
        if (i >= from && i > 0) ++improvements;
      }
    }
    const std::size_t window = f.feasible.size() - from;
    const std::string what = front ? "the best " + metrics.objectives[0].name : "the best value";
    s.push_back(improvements > 0
                    ? "The study is still improving: " + what + " improved " +
                          std::to_string(improvements) + " time" + (improvements == 1 ? "" : "s") +
                          " in the last " + std::to_string(window) + " " + kind + " trials."
                    : "The study has stopped improving for now: " + what +
                          " has not changed in the last " + std::to_string(window) + " " + kind +
                          " trials (since trial " + std::to_string(f.best->id) + ").");
  }
  std::string out = "<ul class=\"summary\">";
  for (const std::string& line : s) out += "<li>" + esc(line) + "</li>";
  return out + "</ul>";
}

std::string progress(const Facts& f, const ReportInput& in) {
  if (in.trials.empty()) return missing("No trials yet: there is no progress to show.");
  if (f.complete.empty()) {
    return missing("No trial has completed: there are no values to plot (" +
                   std::to_string(f.failed) + " failed, " + std::to_string(f.running) +
                   " running).");
  }
  std::vector<double> values;
  for (const Trial* t : f.complete) values.push_back(*t->value);
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  const bool log = *lo > 0 && *hi / *lo >= 1e3;  // values that span decades
  const auto [ylo, yhi] = report::padded_range(values, log);
  report::Svg svg(760, 320, "Every trial's value over time and the best so far");
  const double n_max = static_cast<double>(std::max<std::int64_t>(in.trials.back().id, 1));
  report::Scale x{0.0, n_max, 60.0, 740.0, false};
  report::Scale y{ylo, yhi, 280.0, 20.0, log};
  svg.axes(x, y, "trial", log ? "value (log scale)" : "value");
  // Points: every trial, or per bin its best and worst when there are too many.
  const std::size_t bins = std::min(f.complete.size(), kMaxProgressPoints / 2);
  const bool binned = f.complete.size() > kMaxProgressPoints;
  if (!binned) {
    std::set<const Trial*> ok(f.feasible.begin(), f.feasible.end());
    for (const Trial* t : f.complete) {
      const bool fits = ok.count(t) > 0;
      svg.circle(x(t->id), y(*t->value), 2.5, fits ? "#3b6fb6" : "#a0a7b0",
                 "trial " + std::to_string(t->id) + ": " + num(*t->value, 6) +
                     (fits ? "" : " (infeasible)"),
                 0.75);
    }
  } else {
    for (std::size_t b = 0; b < bins; ++b) {
      const std::size_t a = b * f.complete.size() / bins, e = (b + 1) * f.complete.size() / bins;
      const Trial* lo_t = f.complete[a];
      const Trial* hi_t = f.complete[a];
      for (std::size_t i = a; i < e; ++i) {
        if (*f.complete[i]->value < *lo_t->value) lo_t = f.complete[i];
        if (*f.complete[i]->value > *hi_t->value) hi_t = f.complete[i];
      }
      for (const Trial* t : {lo_t, hi_t}) {
        svg.circle(x(t->id), y(*t->value), 2.0, "#3b6fb6",
                   "trial " + std::to_string(t->id) + ": " + num(*t->value, 6), 0.6);
      }
    }
  }
  // Failed trials on the axis.
  std::size_t drawn_failed = 0;
  for (const Trial& t : in.trials) {
    if (t.state != TrialState::kFailed || drawn_failed >= kMaxProgressPoints) continue;
    svg.cross(x(t.id), 284.0, 3.0, "#c0392b", "trial " + std::to_string(t.id) + ": failed");
    ++drawn_failed;
  }
  // The best so far, as a step line.
  std::vector<std::pair<double, double>> steps;
  const Trial* best = nullptr;
  for (const Trial* t : f.feasible) {
    if (best && !f.better(*t->value, *best->value)) continue;
    if (best) steps.emplace_back(x(t->id), y(*best->value));
    best = t;
    steps.emplace_back(x(t->id), y(*best->value));
  }
  if (best) {
    steps.emplace_back(x(n_max), y(*best->value));
    svg.polyline(steps, "#e67e22", 2.0, 1.0, "best so far");
  }
  std::string note = "<p class=\"caption\">Dots: complete trials; orange: the best so far";
  if (f.constrained) note += " among the feasible ones; grey dots: trials that break a constraint";
  if (f.failed > 0) note += "; red crosses: failed trials";
  note += ".";
  if (binned) {
    note += " The " + std::to_string(f.complete.size()) + " complete trials are drawn as " +
            std::to_string(bins) +
            " bins of consecutive trials, each by its lowest and highest "
            "value.";
  }
  if (log) note += " The values span decades, so the axis is logarithmic.";
  return "<figure>" + svg.str() + "</figure>" + note + "</p>";
}

std::string importance(const report::ModelView& m) {
  if (!m.fitted) return missing(m.note);
  const std::size_t shown = std::min<std::size_t>(m.importance.size(), 30);
  const int row = 22, height = static_cast<int>(shown) * row + 20;
  report::Svg svg(760, height, "Each parameter's share of the model's relevance");
  for (std::size_t i = 0; i < shown; ++i) {
    const auto& imp = m.importance[i];
    const double y = 10 + i * row;
    svg.text(200, y + 14, imp.name.size() > 30 ? imp.name.substr(0, 29) + "…" : imp.name, "end",
             11);
    svg.rect(210, y + 3, 480 * imp.share, row - 6, "#3b6fb6",
             imp.name + ": " + num(100 * imp.share, 3) + "%");
    svg.text(216 + 480 * imp.share, y + 15, num(100 * imp.share, 3) + "%", "start", 10);
  }
  const auto& top = m.importance.front();
  std::string reading =
      top.name + " matters most (" + num(100 * top.share, 3) + "% of the model's relevance)";
  if (m.importance.size() > 1) {
    const auto& last = m.importance.back();
    reading += "; " + last.name + " matters least (" + num(100 * last.share, 3) + "%)";
  }
  std::string note = "<p class=\"reading\">" + esc(reading) + ".</p><p class=\"caption\">" +
                     esc(m.note) +
                     " A parameter's relevance is 1 / its lengthscale in the unit cube (a "
                     "categorical: its most relevant choice), as a share of the total.";
  if (m.importance.size() > shown) {
    note += " The " + std::to_string(m.importance.size() - shown) +
            " least relevant parameters are not drawn; all are listed in the provenance.";
  }
  return "<figure>" + svg.str() + "</figure>" + note + "</p>";
}

std::string slices(const report::ModelView& m, const ReportInput& in, const Facts& f) {
  if (!m.fitted) return missing(m.note);
  std::string out;
  for (const report::Slice& s : m.slices) {
    const ParamSpec* spec = nullptr;
    for (const ParamSpec& p : in.space.params()) {
      if (p.name == s.name) spec = &p;
    }
    std::vector<double> ys;
    for (std::size_t i = 0; i < s.mean.size(); ++i) {
      ys.push_back(s.mean[i] - 2 * s.sd[i]);
      ys.push_back(s.mean[i] + 2 * s.sd[i]);
    }
    std::vector<const Trial*> shown;
    for (std::size_t i = 0; i < f.complete.size(); ++i) {
      if (f.complete.size() <= 500 || i % (f.complete.size() / 500 + 1) == 0) {
        shown.push_back(f.complete[i]);
        ys.push_back(*f.complete[i]->value);
      }
    }
    const auto [ylo, yhi] = report::padded_range(ys, false);
    const double xlo = s.categorical ? -0.5 : spec->low,
                 xhi = s.categorical ? s.labels.size() - 0.5 : spec->high;
    report::Svg svg(370, 260, "The model along " + s.name + ", the others at the best trial");
    report::Scale x{xlo, xhi, 55.0, 355.0, s.log && xlo > 0};
    report::Scale y{ylo, yhi, 220.0, 15.0, false};
    if (s.categorical) {
      svg.axes(x, y, s.name, "value", /*x_ticks=*/false);
      for (std::size_t c = 0; c < s.labels.size(); ++c) {
        const std::string label =
            s.labels[c].size() > 12 ? s.labels[c].substr(0, 11) + "…" : s.labels[c];
        svg.text(x(static_cast<double>(c)), 250, label, "middle", 10);
        svg.rect(x(static_cast<double>(c)) - 6, y(s.mean[c] + 2 * s.sd[c]), 12,
                 y(s.mean[c] - 2 * s.sd[c]) - y(s.mean[c] + 2 * s.sd[c]), "#3b6fb6",
                 s.labels[c] + ": " + num(s.mean[c]) + " ± " + num(2 * s.sd[c]));
      }
    } else {
      svg.axes(x, y, s.name, "value");
      std::vector<std::pair<double, double>> band, mean;
      for (std::size_t i = 0; i < s.x.size(); ++i)
        band.emplace_back(x(s.x[i]), y(s.mean[i] + 2 * s.sd[i]));
      for (std::size_t i = s.x.size(); i-- > 0;)
        band.emplace_back(x(s.x[i]), y(s.mean[i] - 2 * s.sd[i]));
      for (std::size_t i = 0; i < s.x.size(); ++i) mean.emplace_back(x(s.x[i]), y(s.mean[i]));
      svg.polygon(band, "#3b6fb6", 0.2);
      svg.polyline(mean, "#1d3f73", 2.0, 1.0, "model mean");
    }
    for (const Trial* t : shown) {
      if (!t->params.count(s.name)) continue;  // inactive in this trial
      svg.circle(x(report::axis_value(*spec, t->params.at(s.name))), y(*t->value), 2.0, "#e67e22",
                 "trial " + std::to_string(t->id) + ": " + num(*t->value, 6), 0.5);
    }
    out += "<figure class=\"slice\">" + svg.str() + "</figure>";
  }
  return "<div class=\"slices\">" + out +
         "</div><p class=\"caption\">The model's mean (line, or the middle of a bar) and a band "
         "of two standard deviations, moving one parameter with the others at the best "
         "trial's values; orange dots: the trials (all parameters as they were).</p>";
}

std::string parallel(const ReportInput& in, const report::ModelView& m, const Facts& f) {
  if (f.complete.empty()) return missing("No complete trial to draw.");
  // Axes: the most relevant parameters when there are many.
  std::vector<const ParamSpec*> axes;
  if (m.fitted) {
    for (const auto& imp : m.importance) {
      for (const ParamSpec& p : in.space.params()) {
        if (p.name == imp.name && axes.size() < kMaxAxes) axes.push_back(&p);
      }
    }
  } else {
    for (const ParamSpec& p : in.space.params()) {
      if (axes.size() < kMaxAxes) axes.push_back(&p);
    }
  }
  // Lines: the best 100 and an even spread of the rest.
  std::vector<const Trial*> sorted = f.complete;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [&](const Trial* a, const Trial* b) { return f.better(*a->value, *b->value); });
  std::vector<const Trial*> lines;
  if (sorted.size() <= kMaxLines) {
    lines = sorted;
  } else {
    lines.assign(sorted.begin(), sorted.begin() + 100);
    const std::size_t rest = sorted.size() - 100, take = kMaxLines - 100;
    for (std::size_t k = 0; k < take; ++k) lines.push_back(sorted[100 + k * rest / take]);
  }
  const double w = 760, h = 320, left = 40, right = 720;
  report::Svg svg(static_cast<int>(w), static_cast<int>(h),
                  "All trials at once: one line per trial, coloured by value");
  const double n_axes = static_cast<double>(axes.size() + 1);
  auto ax = [&](std::size_t i) {
    return axes.size() == 0 ? left : left + (right - left) * i / (n_axes - 1);
  };
  const std::size_t rank_n = sorted.size();
  std::map<const Trial*, std::size_t> rank;
  for (std::size_t i = 0; i < sorted.size(); ++i) rank[sorted[i]] = i;
  double vlo = *f.complete.front()->value, vhi = vlo;
  for (const Trial* t : f.complete) {
    vlo = std::min(vlo, *t->value);
    vhi = std::max(vhi, *t->value);
  }
  // Draw the worst first, so the best lie on top.
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    const Trial* t = *it;
    std::vector<std::pair<double, double>> pts;
    for (std::size_t a = 0; a < axes.size(); ++a) {
      const ParamSpec& p = *axes[a];
      if (!t->params.count(p.name)) continue;  // inactive in this trial: no point on its axis
      double u;
      if (p.type == ParamType::kCategorical) {
        u = p.choices.size() > 1
                ? report::axis_value(p, t->params.at(p.name)) / (p.choices.size() - 1)
                : 0.5;
      } else {
        const double v = report::axis_value(p, t->params.at(p.name));
        u = p.log ? std::log(v / p.low) / std::log(p.high / p.low) : (v - p.low) / (p.high - p.low);
      }
      pts.emplace_back(ax(a), 280 - 250 * std::clamp(u, 0.0, 1.0));
    }
    pts.emplace_back(ax(axes.size()),
                     280 - 250 * (vhi > vlo ? (*t->value - vlo) / (vhi - vlo) : 0.5));
    const double r = rank_n > 1 ? static_cast<double>(rank[t]) / (rank_n - 1) : 0.0;
    svg.polyline(pts, report::ramp(r), 1.0, 0.6,
                 "trial " + std::to_string(t->id) + ": " + num(*t->value, 6));
  }
  for (std::size_t a = 0; a <= axes.size(); ++a) {
    svg.line(ax(a), 30, ax(a), 280, "#555");
    const std::string name = a < axes.size() ? axes[a]->name : "value";
    svg.text(ax(a), 300, name.size() > 14 ? name.substr(0, 13) + "…" : name, "middle", 10);
    if (a < axes.size() && axes[a]->type != ParamType::kCategorical) {
      svg.text(ax(a), 26, num(axes[a]->high, 3), "middle", 9);
      svg.text(ax(a), 292, num(axes[a]->low, 3), "middle", 9);
    } else if (a < axes.size()) {
      svg.text(ax(a), 26, axes[a]->choices.back().substr(0, 12), "middle", 9);
      svg.text(ax(a), 292, axes[a]->choices.front().substr(0, 12), "middle", 9);
    } else {
      svg.text(ax(a), 26, num(vhi, 3), "middle", 9);
      svg.text(ax(a), 292, num(vlo, 3), "middle", 9);
    }
  }
  std::string note =
      "<p class=\"caption\">One line per trial, from each parameter's axis to its "
      "value's; the darkest lines are the best trials.";
  if (lines.size() < f.complete.size()) {
    note += " " + std::to_string(lines.size()) + " of the " + std::to_string(f.complete.size()) +
            " complete trials are drawn: the best 100 and an even spread of the rest.";
  }
  if (axes.size() < in.space.size()) {
    note += " The " + std::to_string(axes.size()) + " most relevant of the " +
            std::to_string(in.space.size()) + " parameters have axes.";
  }
  return "<figure>" + svg.str() + "</figure>" + note + "</p>";
}

/// The Pareto front (several objectives) and the constraints' feasibility.
std::string metrics_section(const ReportInput& in, const Facts& f, const ParetoFront* front) {
  const Metrics& metrics = in.options.metrics;
  std::string out;
  if (!metrics.constraints.empty()) {
    out +=
        "<h3>Feasibility</h3><table class=\"constraints\"><tr><th>constraint</th>"
        "<th>complete trials that meet it</th></tr>";
    for (const OutcomeConstraint& c : metrics.constraints) {
      std::size_t met = 0;
      for (const Trial* t : f.complete) {
        const auto it = t->values.find(c.metric);
        if (it != t->values.end() &&
            (c.side == Bound::kAtMost ? it->second <= c.bound : it->second >= c.bound)) {
          ++met;
        }
      }
      out += "<tr><td>" + esc(c.metric + " " + to_string(c.side) + " " + num(c.bound)) +
             "</td><td>" + std::to_string(met) + " of " + std::to_string(f.complete.size()) +
             "</td></tr>";
    }
    out += "</table><p class=\"caption\">" + std::to_string(f.feasible.size()) + " of the " +
           std::to_string(f.complete.size()) + " complete trials meet every constraint.</p>";
  }
  if (!front) return out;
  const std::vector<Objective>& obj = metrics.objectives;
  out += "<h3>Pareto front</h3>";
  if (front->trials.empty()) {
    return out + missing("No feasible complete trial yet: there is no Pareto front.");
  }
  std::string ref;
  for (std::size_t j = 0; j < obj.size() && j < front->reference_point.size(); ++j) {
    ref += (ref.empty() ? "" : ", ") + obj[j].name + " " + num(front->reference_point[j]);
  }
  out += "<p>" + std::to_string(front->trials.size()) +
         " trials are on the front; they dominate a hypervolume of " + num(front->hypervolume, 6) +
         " up to the reference point (" + esc(ref) + ").</p>";
  // The first two objectives: every complete trial, the front drawn over them.
  std::vector<double> xs, ys;
  for (const Trial* t : f.complete) {
    xs.push_back(t->values.at(obj[0].name));
    ys.push_back(t->values.at(obj[1].name));
  }
  const auto [xlo, xhi] = report::padded_range(xs, false);
  const auto [ylo, yhi] = report::padded_range(ys, false);
  report::Svg svg(760, 360, "The first two objectives of every trial, the Pareto front marked");
  report::Scale x{xlo, xhi, 70.0, 740.0, false};
  report::Scale y{ylo, yhi, 320.0, 20.0, false};
  svg.axes(x, y, obj[0].name + " (" + to_string(obj[0].direction) + "d)",
           obj[1].name + " (" + to_string(obj[1].direction) + "d)");
  std::set<std::int64_t> on_front;
  for (const Trial& t : front->trials) on_front.insert(t.id);
  std::set<const Trial*> ok(f.feasible.begin(), f.feasible.end());
  const std::size_t stride = f.complete.size() > kMaxProgressPoints
                                 ? (f.complete.size() + kMaxProgressPoints - 1) / kMaxProgressPoints
                                 : 1;
  for (std::size_t i = 0; i < f.complete.size(); i += stride) {
    const Trial* t = f.complete[i];
    if (on_front.count(t->id)) continue;
    svg.circle(x(xs[i]), y(ys[i]), 2.5, ok.count(t) ? "#3b6fb6" : "#a0a7b0",
               "trial " + std::to_string(t->id), 0.6);
  }
  std::vector<std::pair<double, double>> pts;
  for (const Trial& t : front->trials) {
    pts.emplace_back(x(t.values.at(obj[0].name)), y(t.values.at(obj[1].name)));
  }
  std::sort(pts.begin(), pts.end());
  if (obj.size() == 2) svg.polyline(pts, "#e67e22", 1.5, 0.8, "the Pareto front");
  for (const Trial& t : front->trials) {
    svg.circle(x(t.values.at(obj[0].name)), y(t.values.at(obj[1].name)), 4.0, "#e67e22",
               "trial " + std::to_string(t.id) + " (on the front)", 1.0);
  }
  out +=
      "<figure>" + svg.str() + "</figure><p class=\"caption\">Orange: the Pareto front" +
      std::string(obj.size() > 2 ? " (of all objectives, shown in the first two)" : "") +
      "; blue: other feasible trials" + (f.constrained ? "; grey: infeasible ones" : "") +
      (stride > 1 ? "; one trial in " + std::to_string(stride) + " off the front is drawn" : "") +
      ".</p>";
  // The front as a table: objectives, then the parameters.
  constexpr std::size_t kMaxRows = 100;
  out += "<div class=\"scroll\"><table class=\"pareto\"><tr><th>trial</th>";
  for (const Objective& o : obj) out += "<th>" + esc(o.name) + "</th>";
  out += "<th>parameters</th></tr>";
  for (std::size_t i = 0; i < front->trials.size() && i < kMaxRows; ++i) {
    const Trial& t = front->trials[i];
    out += "<tr><td>" + std::to_string(t.id) + "</td>";
    for (const Objective& o : obj) out += "<td>" + num(t.values.at(o.name), 6) + "</td>";
    out += "<td>" + esc(params_text(t.params)) + "</td></tr>";
  }
  out += "</table></div>";
  if (front->trials.size() > kMaxRows) {
    out += "<p class=\"caption\">The first " + std::to_string(kMaxRows) + " of " +
           std::to_string(front->trials.size()) +
           " trials on the front (every trial is in the table under Provenance).</p>";
  }
  return out;
}

std::string provenance(const ReportInput& in, const report::ModelView& m) {
  std::map<std::string, std::size_t> workers;
  for (const Trial& t : in.trials) {
    if (t.state != TrialState::kRunning)
      ++workers[t.worker_id.empty() ? "(anonymous)" : t.worker_id];
  }
  std::string out = "<dl class=\"provenance\">";
  const auto item = [&](const std::string& k, const std::string& v) {
    out += "<dt>" + esc(k) + "</dt><dd>" + v + "</dd>";
  };
  item("study", esc(in.name));
  item("created", esc(utc(in.created_at)));
  item("engine", "gpbo " + esc(GPBO_VERSION));
  item("direction", esc(to_string(in.options.direction)));
  item("seed", esc(std::to_string(in.options.seed)));
  item("trials", esc(std::to_string(in.trials.size())));
  item("log entries",
       esc(in.log_entries > 0 ? std::to_string(in.log_entries)
                              : std::string("none (a study in memory keeps no log)")));
  item("trial data digest", "<code id=\"digest\">" + trial_data_digest(in.trials) +
                                "</code> (SHA-256 of every trial's id, state, params and value(s): "
                                "equal data, equal digest)");
  std::string w;
  for (const auto& [id, count] : workers) {
    w += (w.empty() ? "" : ", ") + esc(id) + " (" + std::to_string(count) + ")";
  }
  item("results reported by", w.empty() ? "no result yet" : w);
  if (m.fitted) {
    std::string rel;
    for (const auto& imp : m.importance) {
      rel += (rel.empty() ? "" : ", ") + esc(imp.name) + " " + num(100 * imp.share, 3) + "%";
    }
    item("relevance of every parameter", rel);
  }
  out += "</dl><h3>Options</h3><table class=\"options\"><tr><th>option</th><th>value</th></tr>";
  const OptionValues values{in.options, in.persistence};
  for (const OptionSpec& spec : option_table()) {
    const json v = spec.get(values);
    out += "<tr><td>" + esc(spec.key) + "</td><td>" +
           esc(v.is_string() ? v.get<std::string>() : json_text(v)) + "</td></tr>";
  }
  out += "</table>";
  // Every trial, who reported it and when: folded (it can be long), never thinned.
  if (in.trials.empty()) return out;
  out += "<h3>Every trial</h3><details class=\"results\"><summary>Who reported each of the " +
         std::to_string(in.trials.size()) +
         " trials, and when</summary><div class=\"scroll\"><table class=\"results\"><tr>"
         "<th>trial</th><th>state</th><th>value</th><th>source</th><th>worker</th>"
         "<th>finished</th></tr>";
  for (const Trial& t : in.trials) {
    out += "<tr><td>" + std::to_string(t.id) + "</td><td>" + esc(to_string(t.state)) + "</td><td>" +
           (t.value ? num(*t.value, 6) : std::string()) + "</td><td>" + esc(t.source) +
           "</td><td>" + esc(t.worker_id) + "</td><td>" +
           (t.state == TrialState::kRunning ? std::string() : esc(utc(t.finished_at))) +
           "</td></tr>";
  }
  return out + "</table></div></details>";
}

std::string top(const ReportInput& in, const Facts& f) {
  if (f.complete.empty()) return missing("No complete trial yet.");
  if (f.feasible.empty()) return missing("No complete trial meets every constraint yet.");
  std::vector<const Trial*> sorted = f.feasible;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [&](const Trial* a, const Trial* b) { return f.better(*a->value, *b->value); });
  const std::size_t shown = std::min<std::size_t>(sorted.size(), 20);
  const bool wide = in.space.size() > 8;  // many parameters: one cell for all of them
  std::string out =
      "<div class=\"scroll\"><table class=\"top\"><tr><th>rank</th><th>trial</th>"
      "<th>value</th>";
  if (wide) {
    out += "<th>parameters</th>";
  } else {
    for (const ParamSpec& p : in.space.params()) out += "<th>" + esc(p.name) + "</th>";
  }
  out += "<th>worker</th><th>finished</th></tr>";
  for (std::size_t i = 0; i < shown; ++i) {
    const Trial& t = *sorted[i];
    out += "<tr><td>" + std::to_string(i + 1) + "</td><td>" + std::to_string(t.id) + "</td><td>" +
           num(*t.value, 6) + "</td>";
    if (wide) {
      out += "<td>" + esc(params_text(t.params)) + "</td>";
    } else {
      for (const ParamSpec& p : in.space.params()) {
        const auto it = t.params.find(p.name);
        out += "<td>" + (it == t.params.end() ? "" : esc(to_string(it->second))) + "</td>";
      }
    }
    out += "<td>" + esc(t.worker_id) + "</td><td>" + esc(utc(t.finished_at)) + "</td></tr>";
  }
  out += "</table></div>";
  out += "<p class=\"caption\">The best " + std::to_string(shown) + " of " +
         std::to_string(f.feasible.size()) + (f.constrained ? " feasible" : " complete") +
         " trials" +
         (in.options.metrics.multi_objective() ? ", by " + in.options.metrics.objectives[0].name
                                               : std::string()) +
         ".</p>";
  return out;
}

constexpr const char* kStyle = R"css(
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;
max-width:980px;margin:0 auto;padding:16px;background:#fff}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.25em;border-bottom:1px solid #ddd;
padding-bottom:.2em;margin-top:1.6em}h3{font-size:1.05em}
ul.summary li{margin:.3em 0}.missing{color:#8a5a00;background:#fff7e0;padding:.5em .8em;
border-radius:4px}.caption{color:#555;font-size:.9em}.reading{font-weight:600}
figure{margin:.5em 0}svg{width:100%;height:auto;display:block}svg text{fill:#333}
.slices{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:12px}
table{border-collapse:collapse;font-size:.88em}td,th{border:1px solid #ddd;padding:3px 6px;
text-align:left;vertical-align:top}th{background:#f4f6f9}.scroll{overflow-x:auto}
dl.provenance{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px}
dl.provenance dt{font-weight:600}dl.provenance dd{margin:0;overflow-wrap:anywhere}
code{font-size:.85em;overflow-wrap:anywhere}
@media (max-width:600px){dl.provenance{grid-template-columns:1fr}dl.provenance dd{margin-bottom:6px}}
@media print{body{max-width:none;padding:0}section{break-inside:avoid-page}.scroll{overflow:visible}}
)css";

}  // namespace

std::string trial_data_digest(const std::vector<Trial>& trials) {
  std::string data;
  for (const Trial& t : trials) {
    json j = {{"id", t.id},
              {"state", to_string(t.state)},
              {"params", params_to_json(t.params)},
              {"value", t.value ? json(*t.value) : json(nullptr)}};
    if (!t.values.empty()) j["values"] = t.values;  // a study with metrics: every metric too
    data += json_text(j) + "\n";
  }
  return sha256_hex(data);
}

std::string render_report(const ReportInput& original) {
  // Several objectives: the Pareto front, and the one-objective views of the first objective.
  const Metrics& metrics = original.options.metrics;
  std::optional<ParetoFront> front;
  ReportInput first = metrics.multi_objective() ? original : ReportInput{};
  if (metrics.multi_objective()) {
    front = pareto_front(original.options, original.trials);
    first.options.direction = metrics.objectives[0].direction;
    for (Trial& t : first.trials) {
      const auto it = t.values.find(metrics.objectives[0].name);
      if (t.state == TrialState::kComplete && it != t.values.end()) t.value = it->second;
    }
  }
  const ReportInput& in = metrics.multi_objective() ? first : original;
  const Facts f = facts_of(in);
  const report::ModelView model =
      f.best ? report::model_view(in.space, f.complete, f.maximize, f.best->params)
             : report::ModelView{false, "No complete trial yet: there is no model.", {}, {}};
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
      "<meta name=\"generator\" content=\"gpbo " GPBO_VERSION
      "\">"
      "<title>" +
      esc(in.name) + " — gpbo report</title><style>" + kStyle + "</style></head><body>\n";
  html += "<header><h1>" + esc(in.name) + "</h1><p class=\"caption\">A gpbo study of " +
          std::to_string(in.space.size()) + " parameter" + (in.space.size() == 1 ? "" : "s") +
          ", " + to_string(in.options.direction) + "d. Report written " +
          esc(utc(static_cast<double>(std::time(nullptr)))) + ".</p></header>\n";
  html += section("summary", "Summary", summary(in, f, front ? &*front : nullptr));
  html += section("progress", "Progress", progress(f, in));
  html += section("importance", "What matters", importance(model));
  html += section("slices", "How the important parameters act", slices(model, in, f));
  html += section("parallel", "All trials at once", parallel(in, model, f));
  if (!metrics.empty()) {
    html += section("metrics", front ? "Several metrics: the Pareto front" : "Feasibility",
                    metrics_section(in, f, front ? &*front : nullptr));
  }
  html += section("provenance", "Provenance", provenance(in, model));
  html += section("top", "Top trials", top(in, f));
  html += "</body></html>\n";
  return html;
}

std::string render_report(const Study& study, const std::string& name) {
  ReportInput in;
  in.name = name;
  in.space = study.space();
  in.options = study.options();
  in.trials = study.trials();
  in.outliers = study.outliers();
  in.drift_checks = study.drift_checks();
  return render_report(in);
}

std::string render_report(PersistentStudy& study) {
  const StudyInfo info = study.info();
  const StoredStudy stored = StoredStudy::load(info);
  ReportInput in;
  in.name = info.name;
  in.space = stored.space;
  in.options = stored.options;
  in.persistence = stored.persistence;
  in.trials = study.trials();
  in.log_entries = study.log().size();
  in.outliers = study.outliers();
  in.drift_checks = study.drift_checks();
  in.created_at = info.created_at;
  return render_report(in);
}

}  // namespace gpbo
