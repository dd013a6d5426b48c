#include "exporters/http/exposition.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "agent/metric_sink.h"

namespace tacho::exporters {
namespace {

std::vector<agent::RenderedFamily> Render(agent::MetricSink& sink) {
  return agent::RenderFamilies(sink.Take());
}

TEST(ExpositionTest, same_family_from_two_snapshots_gets_one_header) {
  agent::MetricSink a(agent::Labels{{"target", "a"}});
  a.Gauge("up_thing", "Up.", {}, 1);
  a.Gauge("z_last", "Z.", {}, 5);
  agent::MetricSink b(agent::Labels{{"target", "b"}});
  b.Gauge("up_thing", "Up.", {}, 0);
  b.Counter("m_total", "M.", {}, 2);
  auto ra = Render(a);
  auto rb = Render(b);
  std::size_t conflicts = 99;
  std::string text = MergeExposition({&ra, &rb}, &conflicts);
  EXPECT_EQ(conflicts, 0u);
  EXPECT_EQ(text,
            "# HELP m_total M.\n# TYPE m_total counter\nm_total{target=\"b\"} 2\n"
            "# HELP up_thing Up.\n# TYPE up_thing gauge\nup_thing{target=\"a\"} 1\n"
            "up_thing{target=\"b\"} 0\n"
            "# HELP z_last Z.\n# TYPE z_last gauge\nz_last{target=\"a\"} 5\n");
}

TEST(ExpositionTest, type_conflict_keeps_first_part_and_counts) {
  agent::MetricSink a;
  a.Gauge("x", "X.", {{"k", "1"}}, 1);
  agent::MetricSink b;
  b.Counter("x", "X.", {{"k", "2"}}, 2);
  auto ra = Render(a);
  auto rb = Render(b);
  std::size_t conflicts = 0;
  std::string text = MergeExposition({&ra, &rb}, &conflicts);
  EXPECT_EQ(conflicts, 1u);
  EXPECT_EQ(text, "# HELP x X.\n# TYPE x gauge\nx{k=\"1\"} 1\n");
}

TEST(ExpositionTest, empty_input_gives_empty_body) { EXPECT_EQ(MergeExposition({}), ""); }

TEST(ExpositionTest, accepts_gzip_parses_weights) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("deflate, GZIP;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("*"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0.000"));
  EXPECT_FALSE(AcceptsGzip("identity"));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("x-gzip-not"));
}

TEST(ExpositionTest, gzip_round_trips) {
  std::string body;
  for (int i = 0; i < 1000; ++i) body += "metric{label=\"" + std::to_string(i) + "\"} 1\n";
  std::string compressed = GzipCompress(body);
  EXPECT_LT(compressed.size(), body.size() / 4);
  ASSERT_GE(compressed.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(compressed[0]), 0x1f) << "gzip magic";
  EXPECT_EQ(static_cast<unsigned char>(compressed[1]), 0x8b);
  z_stream stream{};
  ASSERT_EQ(inflateInit2(&stream, 15 + 16), Z_OK);
  std::string out(body.size() + 16, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(compressed.data());
  stream.avail_in = static_cast<uInt>(compressed.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  ASSERT_EQ(inflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  inflateEnd(&stream);
  EXPECT_EQ(out, body);
}

}  // namespace
}  // namespace tacho::exporters
