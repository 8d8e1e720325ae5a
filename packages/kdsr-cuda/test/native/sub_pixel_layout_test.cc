// Unit tests of SubPixelLayout (src/native/ops/pixel_shuffle/sub_pixel_layout.h): the CPU kernels
// move whole rows (packed_row, spread_row) and the CUDA kernels single elements (packed_of_spread,
// spread_of_packed); here the per-element maps are checked against the row maps and the definition
// packed[b, c*r*r + i*r + j, Y, X] = spread[b, c, Y*r + i, X*r + j], without a GPU.
// Built into build/native-tests/; see native_test.h for how it runs.
#include <vector>

#include "../../src/native/ops/pixel_shuffle/sub_pixel_layout.h"
#include "native_test.h"

namespace kdsr {
namespace {

struct Case {
  int64_t batch, channels, r, height, width;  // the packed tensor is (batch, channels*r*r, height, width)
};

const Case kShapes[] = {{1, 1, 1, 1, 1}, {2, 3, 2, 5, 3}, {1, 2, 3, 4, 1}, {2, 1, 4, 1, 6}, {3, 2, 2, 2, 2}};

void element_maps_follow_the_definition() {
  for (const Case& s : kShapes) {
    const SubPixelLayout layout{s.r, s.height, s.width};
    const int64_t sh = s.height * s.r, sw = s.width * s.r;
    for (int64_t b = 0; b < s.batch; b++)
      for (int64_t c = 0; c < s.channels; c++)
        for (int64_t i = 0; i < s.r; i++)
          for (int64_t j = 0; j < s.r; j++)
            for (int64_t Y = 0; Y < s.height; Y++)
              for (int64_t X = 0; X < s.width; X++) {
                const int64_t packed = ((b * s.channels * s.r * s.r + c * s.r * s.r + i * s.r + j) * s.height + Y) * s.width + X;
                const int64_t spread = ((b * s.channels + c) * sh + Y * s.r + i) * sw + X * s.r + j;
                EXPECT(layout.packed_of_spread(spread) == packed, "r ", s.r, " at spread ", spread);
                EXPECT(layout.spread_of_packed(packed) == spread, "r ", s.r, " at packed ", packed);
                const int64_t bc = b * s.channels + c;
                EXPECT(layout.packed_row(bc, i, j, Y) + X == packed && layout.spread_row(bc, Y, i) + X * s.r + j == spread, "r ", s.r);
              }
  }
}

void maps_are_inverse_permutations() {
  for (const Case& s : kShapes) {
    const SubPixelLayout layout{s.r, s.height, s.width};
    const int64_t n = s.batch * s.channels * s.r * s.r * s.height * s.width;
    std::vector<int> hit(static_cast<size_t>(n), 0);
    for (int64_t p = 0; p < n; p++) {
      const int64_t q = layout.spread_of_packed(p);
      EXPECT(q >= 0 && q < n, "spread offset ", q, " out of range");
      hit[static_cast<size_t>(q)]++;
      EXPECT(layout.packed_of_spread(q) == p, "r ", s.r, " at packed ", p);
    }
    for (int64_t q = 0; q < n; q++) EXPECT(hit[static_cast<size_t>(q)] == 1, "spread offset ", q, " reached ", hit[static_cast<size_t>(q)], " times");
  }
}

}  // namespace
}  // namespace kdsr

int main(int argc, char** argv) {
  return kdsr::testing::run_cases(argc, argv,
                                  {
                                      {"element_maps_follow_the_definition", kdsr::element_maps_follow_the_definition},
                                      {"maps_are_inverse_permutations", kdsr::maps_are_inverse_permutations},
                                  });
}
