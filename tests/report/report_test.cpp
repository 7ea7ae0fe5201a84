// The report's structure (gpbo/report.hpp): every section in order, the summary's sentences,
// the provenance digest, escaping, and a valid page for every awkward study; a 10,000-trial
// study stays under 5 MB with every trial counted. The browser test
// (report_browser_test.sh) loads the same kinds of pages in Chromium.
#include "gpbo/report.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "codec/options_codec.hpp"
#include "gpbo/study.hpp"
#include "gpbo/test_functions.hpp"

namespace gpbo {
namespace {

const char* const kSections[] = {"summary",  "progress",   "importance", "slices",
                                 "parallel", "provenance", "top"};

/// The sections' ids in the order they appear.
std::vector<std::string> section_ids(const std::string& html) {
  std::vector<std::string> ids;
  const std::regex re("<section id=\"([a-z]+)\">");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), re); it != std::sregex_iterator();
       ++it) {
    ids.push_back((*it)[1]);
  }
  return ids;
}

std::size_t count(const std::string& html, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = html.find(what); at != std::string::npos; at = html.find(what, at + 1)) ++n;
  return n;
}

/// Elements open and close in order (void elements and "/>" excepted): a page a browser reads
/// as written.
void expect_balanced(const std::string& html) {
  static const std::set<std::string> kVoid = {"meta", "br", "img", "hr", "link", "input"};
  std::vector<std::string> stack;
  const std::regex tag("<(/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), tag); it != std::sregex_iterator();
       ++it) {
    const std::string name = (*it)[2];
    const std::string rest = (*it)[3];
    if ((*it)[1] == "/") {
      ASSERT_FALSE(stack.empty()) << "</" << name << "> closes nothing";
      ASSERT_EQ(stack.back(), name) << "</" << name << "> closes <" << stack.back() << ">";
      stack.pop_back();
    } else if (!kVoid.count(name) && (rest.empty() || rest.back() != '/')) {
      stack.push_back(name);
    }
  }
  EXPECT_TRUE(stack.empty()) << "unclosed <" << (stack.empty() ? "" : stack.back()) << ">";
}

void expect_page(const std::string& html) {
  EXPECT_EQ(section_ids(html),
            std::vector<std::string>(std::begin(kSections), std::end(kSections)));
  expect_balanced(html);
  // Self-contained: no script, no link to anything outside the page.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_FALSE(std::regex_search(html, std::regex("<[^>]*\\s(src|href)\\s*=")))
      << "an element loads something";
  EXPECT_EQ(html.find("http://") == std::string::npos ||
                html.find("http://") == html.find("http://www.w3.org/2000/svg"),
            true);
}

ReportInput branin_study(int n, std::uint64_t seed = 0) {
  const TestFunction f = TestFunction::make("branin");
  StudyOptions o;
  o.seed = seed;
  o.device = Device::cpu();
  Study study(f.space(), o);
  for (int i = 0; i < n; ++i) {
    const Trial& t = study.ask();
    if (i == 7) {
      study.tell_state(t.id, TrialState::kFailed);
    } else {
      study.tell(t.id, f(f.to_vector(t.params)));
    }
  }
  ReportInput in;
  in.name = "branin";
  in.space = f.space();
  in.options = o;
  in.trials = study.trials();
  return in;
}

TEST(Report, EverySectionInOrderWithTheSummarysSentences) {
  const ReportInput in = branin_study(25);
  const std::string html = render_report(in);
  expect_page(html);
  EXPECT_NE(html.find("The best configuration so far is trial"), std::string::npos);
  EXPECT_NE(html.find("It beats the best of the initial design"), std::string::npos);
  EXPECT_NE(html.find("The median complete trial scored"), std::string::npos);
  EXPECT_NE(html.find("25 trials ran: 24 complete, 1 failed, 0 pruned, 0 still running."),
            std::string::npos);
  EXPECT_NE(html.find("of compute"), std::string::npos);
  EXPECT_TRUE(html.find("The study is still improving") != std::string::npos ||
              html.find("The study has stopped improving") != std::string::npos);
  EXPECT_NE(html.find("matters most"), std::string::npos);  // the importance's reading
  EXPECT_EQ(count(html, "<figure class=\"slice\">"), 2u);   // both parameters of Branin
  EXPECT_NE(html.find("red crosses: failed trials"), std::string::npos);
  // The top table: 20 rows of 24 complete trials, best first.
  EXPECT_NE(html.find("The best 20 of 24 complete trials."), std::string::npos);
  // Then one row per option and one per trial (who reported it, when): 25, the failed one too.
  EXPECT_EQ(count(html, "<tr><td>"), 20u + option_table().size() + 25u);
  EXPECT_NE(html.find("Who reported each of the 25 trials, and when"), std::string::npos);
  EXPECT_NE(html.find("<tr><td>7</td><td>failed</td><td></td>"), std::string::npos);
}

TEST(Report, OutliersAreNamedInTheSummary) {
  ReportInput in = branin_study(12);
  EXPECT_EQ(render_report(in).find("implausible"), std::string::npos);
  in.outliers = {3};
  EXPECT_NE(render_report(in).find("1 complete trial&#39;s value looked implausible to the model, "
                                   "which left it out (trial 3)"),
            std::string::npos)
      << render_report(in).substr(0, 3000);
  in.outliers = {3, 9};
  EXPECT_NE(render_report(in).find("left them out (trials 3, 9)"), std::string::npos);
}

TEST(Report, TheDigestIdentifiesTheTrialData) {
  const ReportInput in = branin_study(12);
  const std::string digest = trial_data_digest(in.trials);
  EXPECT_EQ(digest.size(), 64u);
  EXPECT_NE(render_report(in).find("<code id=\"digest\">" + digest + "</code>"), std::string::npos);
  EXPECT_EQ(trial_data_digest(branin_study(12).trials), digest) << "same data, same digest";
  ReportInput changed = in;
  changed.trials[3].value = *changed.trials[3].value + 1e-9;
  EXPECT_NE(trial_data_digest(changed.trials), digest);
  changed = in;
  changed.trials[5].worker_id = "someone else";  // not trial data: the digest is unchanged
  EXPECT_EQ(trial_data_digest(changed.trials), digest);
}

TEST(Report, NamesAndValuesAreEscaped) {
  Space space;
  space.add_float("<script>alert(1)</script>", 0.0, 1.0)
      .add_categorical("λ choice", {"naïve", "<b>bold</b>", "\"quoted\" & 'single'"});
  ReportInput in;
  in.name = "<script>alert('study')</script> étude";
  in.space = space;
  Study study(space, StudyOptions{});
  for (int i = 0; i < 8; ++i) {
    const Trial& t = study.ask();
    study.tell(t.id, static_cast<double>(i % 3));
  }
  in.trials = study.trials();
  in.trials[2].worker_id = "<img src=x onerror=alert(2)>";
  const std::string html = render_report(in);
  expect_page(html);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;study&#39;)&lt;/script&gt; étude"),
            std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=alert(2)&gt;"), std::string::npos);
  EXPECT_NE(html.find("naïve"), std::string::npos);
  EXPECT_EQ(html.find("<b>bold</b>"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
}

TEST(Report, EveryAwkwardStudyGivesAValidPageThatSaysWhatIsMissing) {
  Space one;
  one.add_float("x", -1.0, 1.0);
  Space wide;
  for (int i = 0; i < 200; ++i) wide.add_float("p" + std::to_string(i), 0.0, 1.0);
  Space categorical;
  categorical.add_categorical("a", {"x", "y", "z"}).add_categorical("b", {"u", "v"});

  struct Case {
    const char* name;
    Space space;
    int trials;
    bool fail_all;
    const char* must_say;
  };
  const Case cases[] = {
      {"empty", one, 0, false, "This study has no trials yet"},
      {"only failed", one, 6, true, "No trial has completed yet"},
      {"one parameter", one, 9, false, "The best configuration so far"},
      {"200 parameters", wide, 30, false, "The 12 most relevant of the 200 parameters"},
      {"categorical only", categorical, 6, false, "The best configuration so far"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    StudyOptions o;
    o.device = Device::cpu();
    o.n_initial = std::max(c.trials, 1);  // the report is under test, not the asks
    Study study(c.space, o);
    for (int i = 0; i < c.trials; ++i) {
      const Trial& t = study.ask();
      if (c.fail_all) {
        study.tell_state(t.id, TrialState::kFailed);
      } else {
        study.tell(t.id, std::sin(3.0 * i) + 0.1 * i);
      }
    }
    ReportInput in;
    in.name = c.name;
    in.space = c.space;
    in.options = o;
    in.trials = study.trials();
    const std::string html = render_report(in);
    expect_page(html);
    EXPECT_NE(html.find(c.must_say), std::string::npos);
    if (c.trials == 0 || c.fail_all) {
      EXPECT_GE(count(html, "class=\"missing\""), 5u) << "each empty section says so";
    }
  }
}

TEST(Report, TenThousandTrialsStaySmallAndAreAllCounted) {
  Space space;
  for (int i = 0; i < 6; ++i) space.add_float("x" + std::to_string(i), 0.0, 1.0);
  ReportInput in;
  in.name = "large";
  in.space = space;
  std::uint64_t state = 7;
  for (int id = 0; id < 10000; ++id) {
    Trial t;
    t.id = id;
    double sum = 0.0;
    for (int i = 0; i < 6; ++i) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      const double x = static_cast<double>(state >> 11) / 9007199254740992.0;
      t.params["x" + std::to_string(i)] = x;
      sum += (x - 0.3) * (x - 0.3);
    }
    t.state = id % 50 == 7 ? TrialState::kFailed : TrialState::kComplete;
    if (t.state == TrialState::kComplete) t.value = sum;
    t.created_at = 1000.0 + id;
    t.finished_at = 1000.5 + id;
    in.trials.push_back(t);
  }
  const std::string html = render_report(in);
  expect_page(html);
  EXPECT_LT(html.size(), 5u * 1024 * 1024);
  EXPECT_NE(html.find("10000 trials ran: 9800 complete, 200 failed"), std::string::npos);
  EXPECT_NE(html.find("drawn as 1000 bins"), std::string::npos);
  EXPECT_NE(html.find("300 of the 9800 complete trials are drawn"), std::string::npos);
  EXPECT_NE(html.find("fitted to 500 of the 9800 complete trials"), std::string::npos);
  EXPECT_NE(html.find("The best 20 of 9800 complete trials."), std::string::npos);
  EXPECT_NE(html.find("83.3 min of compute"), std::string::npos);  // 10,000 x 0.5 s
  // Tables never thin: the top 20, every option, every trial.
  EXPECT_EQ(count(html, "<tr><td>"), 20u + option_table().size() + 10000u);
}

}  // namespace
}  // namespace gpbo
