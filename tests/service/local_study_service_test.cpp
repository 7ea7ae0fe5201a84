// LocalStudyService: asks on one study from many threads are coalesced into batches.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gpbo/error.hpp"
#include "gpbo/storage.hpp"
#include "service/study_service.hpp"
#include "space/params_json.hpp"

namespace {

using gpbo::Trial;
using gpbo::service::LocalStudyService;

TEST(LocalStudyService, ConcurrentAsksOnOneStudyAreCoalesced) {
  LocalStudyService api(gpbo::Storage::open("memory://"), gpbo::WarmModelOptions{0.1, 5});
  gpbo::Space space;
  space.add_float("x", 0.0, 1.0).add_float("y", 0.0, 1.0);
  gpbo::StudyOptions options;
  options.n_initial = 4;
  api.create_study("c", space, options, {});
  for (int i = 0; i < 4; ++i) {
    const Trial t = api.ask("c", 1, "").at(0);
    api.tell("c", t.id, std::get<double>(t.params.at("x")), false);
  }
  constexpr int kThreads = 8, kRounds = 3;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      try {
        for (int r = 0; r < kRounds; ++r) {
          const std::vector<Trial> got = api.ask("c", 1, "w" + std::to_string(i));
          if (got.size() != 1 || got[0].worker_id != "w" + std::to_string(i)) ++errors;
          const double x = std::get<double>(got.at(0).params.at("x"));
          api.tell("c", got[0].id, (x - 0.3) * (x - 0.3), false);
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        ++errors;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  const std::vector<Trial> all = api.trials("c");
  ASSERT_EQ(all.size(), static_cast<std::size_t>(4 + kThreads * kRounds));
  std::set<std::string> points;
  for (const Trial& t : all) points.insert(gpbo::params_to_json(t.params).dump());
  EXPECT_EQ(points.size(), all.size());  // no point handed out twice
  // The trials of one plan share their creation time: fewer distinct times than asks means
  // waiting asks were planned together.
  std::set<double> plans;
  for (std::size_t i = 4; i < all.size(); ++i) plans.insert(all[i].created_at);
  EXPECT_LT(plans.size(), static_cast<std::size_t>(kThreads * kRounds));
  EXPECT_THROW(api.ask("c", 0, "w"), gpbo::InvalidArgument);
}

}  // namespace
