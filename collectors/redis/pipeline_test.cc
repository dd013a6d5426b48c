#include "collectors/redis/pipeline.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace tacho::collectors::redis {
namespace {

// Answers each command with a reply naming it, as a server answers a pipeline: in order.
void Answer(Pipeline& p) {
  std::vector<Reply> replies;
  for (const Command& c : p.commands()) replies.push_back(Reply::String(c.front() + " reply"));
  ASSERT_TRUE(p.Deliver(std::move(replies)));
}

TEST(RedisPipelineTest, a_conditional_command_does_not_shift_the_replies_of_the_others) {
  for (bool with_clients : {true, false}) {
    SCOPED_TRACE(with_clients);
    Pipeline p;
    const Pipeline::Slot info = p.Add({"INFO", "all"});
    const auto clients = p.AddIf(with_clients, {"CLIENT", "LIST"});
    const Pipeline::Slot slowlog = p.Add({"SLOWLOG", "LEN"});
    Answer(p);
    EXPECT_EQ(p[info].str, "INFO reply");
    EXPECT_EQ(p[slowlog].str, "SLOWLOG reply");
    ASSERT_EQ(clients.has_value(), with_clients);
    if (with_clients) {
      EXPECT_EQ(p.Find(clients)->str, "CLIENT reply");
    } else {
      EXPECT_EQ(p.Find(clients), nullptr);
    }
    EXPECT_EQ(p.commands().size(), with_clients ? 3u : 2u);
  }
}

TEST(RedisPipelineTest, replies_of_another_count_are_refused) {
  Pipeline p;
  const Pipeline::Slot info = p.Add({"INFO"});
  p.Add({"SLOWLOG", "LEN"});
  EXPECT_FALSE(p.Deliver({Reply::String("only one")}));
  EXPECT_FALSE(p.delivered());
  EXPECT_THROW(p[info], std::logic_error) << "no reply before a complete delivery";
}

TEST(RedisPipelineTest, a_slot_reads_only_its_own_pipeline_and_only_after_the_exchange) {
  Pipeline a;
  Pipeline b;
  const Pipeline::Slot in_a = a.Add({"INFO"});
  b.Add({"INFO"});
  EXPECT_THROW(a[in_a], std::logic_error);
  ASSERT_TRUE(b.Deliver({Reply::String("b")}));
  EXPECT_THROW(b[in_a], std::logic_error);
  EXPECT_THROW(b.Add({"PING"}), std::logic_error);
}

}  // namespace
}  // namespace tacho::collectors::redis
