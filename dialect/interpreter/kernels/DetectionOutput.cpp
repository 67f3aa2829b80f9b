//===- DetectionOutput.cpp - SSD detection output --------------------------===//
//
// Caffe SSD DetectionOutput over (loc [N, P * L * 4], conf [N, P * num_classes], priorbox
// [*, 2, P * 4] = boxes then variances): decode the boxes against the priors, per class keep the
// top_k scores above confidence_threshold and run greedy NMS, then keep the keep_top_k best of an
// image. Each detection is a row [image, label, score, xmin, ymin, xmax, ymax], images in order,
// labels ascending, scores descending within a label; rows past the last detection are all -1.
//
//===----------------------------------------------------------------------===//

#include "dialect/interpreter/Kernels.h"
#include "dialect/interpreter/kernels/KernelSupport.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace tpuc::interpreter {
namespace {

struct Box {
  float xmin, ymin, xmax, ymax;
};

float boxArea(const Box &b) {
  if (b.xmax < b.xmin || b.ymax < b.ymin)
    return 0.0f;
  return (b.xmax - b.xmin) * (b.ymax - b.ymin);
}

float jaccardOverlap(const Box &a, const Box &b) {
  if (b.xmin > a.xmax || b.xmax < a.xmin || b.ymin > a.ymax || b.ymax < a.ymin)
    return 0.0f;
  Box inter{std::max(a.xmin, b.xmin), std::max(a.ymin, b.ymin), std::min(a.xmax, b.xmax),
            std::min(a.ymax, b.ymax)};
  float interArea = boxArea(inter);
  return interArea / (boxArea(a) + boxArea(b) - interArea);
}

Box decode(BoxCoding coding, const Box &prior, const float *var, const float *loc) {
  float pw = prior.xmax - prior.xmin, ph = prior.ymax - prior.ymin;
  switch (coding) {
  case BoxCoding::Corner:
    return {prior.xmin + var[0] * loc[0], prior.ymin + var[1] * loc[1],
            prior.xmax + var[2] * loc[2], prior.ymax + var[3] * loc[3]};
  case BoxCoding::CornerSize:
    return {prior.xmin + var[0] * loc[0] * pw, prior.ymin + var[1] * loc[1] * ph,
            prior.xmax + var[2] * loc[2] * pw, prior.ymax + var[3] * loc[3] * ph};
  case BoxCoding::CenterSize:
    break;
  }
  float cx = var[0] * loc[0] * pw + (prior.xmin + prior.xmax) / 2.0f;
  float cy = var[1] * loc[1] * ph + (prior.ymin + prior.ymax) / 2.0f;
  float w = std::exp(var[2] * loc[2]) * pw, h = std::exp(var[3] * loc[3]) * ph;
  return {cx - w / 2.0f, cy - h / 2.0f, cx + w / 2.0f, cy + h / 2.0f};
}

class DetectionOutputKernel : public Kernel {
public:
  explicit DetectionOutputKernel(const DetectionOutputParams &params) : p(params) {}

  void check(const std::vector<Shape> &operands, const Shape &result) override {
    expectOperands(operands, 3, 3);
    const Shape &loc = operands[0], &conf = operands[1], &prior = operands[2];
    if (p.numClasses <= 0)
      fail("num_classes must be positive, got ", p.numClasses);
    if (loc.empty() || conf.empty() || prior.size() < 2)
      fail("expects loc [N, ...], conf [N, ...] and priorbox [..., 2, P * 4]");
    images = loc[0];
    if (conf[0] != images)
      fail("loc ", loc, " and conf ", conf, " differ in batch");
    locClasses = p.shareLocation ? 1 : p.numClasses;
    if (prior[prior.size() - 2] != 2 || prior.back() % 4)
      fail("priorbox ", prior, " must be [..., 2, P * 4] (boxes, then variances)");
    priors = prior.back() / 4;
    if (elementCount(loc) != images * priors * locClasses * 4)
      fail("loc ", loc, " must hold ", priors, " priors x ", locClasses, " x 4 values per image");
    if (elementCount(conf) != images * priors * p.numClasses)
      fail("conf ", conf, " must hold ", priors, " priors x ", p.numClasses, " classes per image");
    if (elementCount(result) % 7 || result.empty() || result.back() != 7)
      fail("result ", result, " must be rows of 7 values [image, label, score, box]");
    if (p.coding != BoxCoding::CenterSize && p.coding != BoxCoding::Corner &&
        p.coding != BoxCoding::CornerSize)
      fail("unknown code_type");
  }

  Tensor run(const std::vector<const Tensor *> &operands, const Shape &result) override {
    const float *loc = operands[0]->values(), *conf = operands[1]->values();
    const float *priorData = operands[2]->values();
    std::vector<float> rows;
    for (int64_t image = 0; image < images; ++image) {
      // Decoded boxes per location class.
      std::vector<std::vector<Box>> boxes(size_t(locClasses),
                                          std::vector<Box>(size_t(priors), Box{}));
      for (int64_t c = 0; c < locClasses; ++c) {
        if (!p.shareLocation && c == p.backgroundLabelId)
          continue;
        for (int64_t k = 0; k < priors; ++k) {
          const float *pr = priorData + k * 4;
          Box prior{pr[0], pr[1], pr[2], pr[3]};
          const float *var = priorData + priors * 4 + k * 4;
          const float *l = loc + ((image * priors + k) * locClasses + c) * 4;
          boxes[c][k] = decode(p.coding, prior, var, l);
        }
      }
      // Per-class NMS.
      std::map<int64_t, std::vector<int64_t>> kept;
      int64_t detections = 0;
      for (int64_t c = 0; c < p.numClasses; ++c) {
        if (c == p.backgroundLabelId)
          continue;
        const std::vector<Box> &classBoxes = boxes[p.shareLocation ? 0 : c];
        std::vector<std::pair<float, int64_t>> candidates;
        for (int64_t k = 0; k < priors; ++k) {
          float score = conf[(image * priors + k) * p.numClasses + c];
          if (score > p.confidenceThreshold)
            candidates.push_back({score, k});
        }
        std::stable_sort(candidates.begin(), candidates.end(),
                         [](const auto &a, const auto &b) { return a.first > b.first; });
        if (p.topK > -1 && int64_t(candidates.size()) > p.topK)
          candidates.resize(size_t(p.topK));
        std::vector<int64_t> &indices = kept[c];
        for (const auto &candidate : candidates) {
          bool keep = true;
          for (int64_t other : indices)
            if (jaccardOverlap(classBoxes[candidate.second], classBoxes[other]) > p.nmsThreshold) {
              keep = false;
              break;
            }
          if (keep)
            indices.push_back(candidate.second);
        }
        detections += int64_t(indices.size());
      }
      if (p.keepTopK > -1 && detections > p.keepTopK) {
        std::vector<std::pair<float, std::pair<int64_t, int64_t>>> all;
        for (const auto &[label, indices] : kept)
          for (int64_t k : indices)
            all.push_back({conf[(image * priors + k) * p.numClasses + label], {label, k}});
        std::stable_sort(all.begin(), all.end(),
                         [](const auto &a, const auto &b) { return a.first > b.first; });
        all.resize(size_t(p.keepTopK));
        kept.clear();
        for (const auto &entry : all)
          kept[entry.second.first].push_back(entry.second.second);
      }
      for (const auto &[label, indices] : kept) {
        const std::vector<Box> &classBoxes = boxes[p.shareLocation ? 0 : label];
        for (int64_t k : indices) {
          const Box &b = classBoxes[k];
          float score = conf[(image * priors + k) * p.numClasses + label];
          rows.insert(rows.end(),
                      {float(image), float(label), score, b.xmin, b.ymin, b.xmax, b.ymax});
        }
      }
    }
    std::vector<float> values(size_t(elementCount(result)), -1.0f);
    std::copy_n(rows.begin(), std::min(rows.size(), values.size()), values.begin());
    return Tensor::fromValues(result, std::move(values));
  }

private:
  DetectionOutputParams p;
  int64_t images = 0, priors = 0, locClasses = 1;
};

} // namespace

std::unique_ptr<Kernel> makeDetectionOutput(const DetectionOutputParams &params) {
  return std::make_unique<DetectionOutputKernel>(params);
}

} // namespace tpuc::interpreter
