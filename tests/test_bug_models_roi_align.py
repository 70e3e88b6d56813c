import types

import torch
from torchvision.ops import roi_align

from opsuite.expectations.bug_models.nn_resample import roi_align_border_unweighted


def _model(x, rois, ratio=1):
    # The VisionOpModule's shape: the call's constants, with the inputs in slots 0 and 1.
    module = types.SimpleNamespace(args=[None, None, 1.0, 1, 1, ratio, False], slots=[0, 1], kwargs={})
    return roi_align_border_unweighted(module, [x, rois])[0]


def test_a_border_sample_of_an_infinite_pixel_is_inf_where_torchvision_gives_nan():
    x = torch.tensor([[1.0, float("inf")], [3.0, 4.0]]).reshape(1, 1, 2, 2)
    on_last_column = torch.tensor([[0.0, 0.5, -0.5, 0.5, -0.5]])  # one sample at (0, 1)
    assert torch.isnan(roi_align(x, on_last_column, (1, 1), 1.0, 1, False)).all()
    assert torch.isinf(_model(x, on_last_column)).all()
    inside = torch.tensor([[0.0, 0.0, -0.5, 0.0, -0.5]])  # x = 0.5: both columns weighted
    assert torch.equal(_model(x, inside), roi_align(x, inside, (1, 1), 1.0, 1, False))


def test_finite_inputs_give_torchvisions_answer():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 5, 4)
    rois = torch.tensor([[0.0, 0.3, 0.2, 3.7, 4.4], [1.0, -0.8, 1.1, 2.2, 5.9]])
    for ratio in (-1, 2):
        expected = roi_align(x, rois, (2, 3), 1.0, ratio, False)
        module = types.SimpleNamespace(args=[None, None, 1.0, 2, 3, ratio, False], slots=[0, 1], kwargs={})
        torch.testing.assert_close(roi_align_border_unweighted(module, [x, rois])[0], expected)
