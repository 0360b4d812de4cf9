"""cv_core's errors for people (DatasetError, MaskError, AccessError, DownloadError) are
TranslatedErrors: English text as before, read in Chinese under ``use_language("zh-TW")``, also after
pickling (st.cache_data keeps pickled errors)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from cv_core.datasets import DatasetError, UserMaskStore, open_dataset
from cv_core.download import DownloadError
from cv_core.i18n import TranslatedError, use_language
from cv_core.instances.data import InstanceDataError, instances_from_maps
from cv_core.mask_drawing import MaskError, parse_class_names
from cv_core.serving import AccessError, ServingPolicy


def test_the_error_classes_are_translated_errors():
    for cls in (DatasetError, MaskError, AccessError, DownloadError, InstanceDataError):
        assert issubclass(cls, TranslatedError)
    assert issubclass(DatasetError, ValueError) and issubclass(DownloadError, RuntimeError)


def test_a_store_refusal_reads_in_english_and_in_chinese(tmp_path):
    store = UserMaskStore(tmp_path)
    with pytest.raises(DatasetError) as caught:
        store.dataset_info("missing")
    error = caught.value
    # The English text is the one the code wrote (with the name's repr, as the f-string had it).
    assert str(error) == "There is no user dataset called 'missing'. Create it first."
    with use_language("zh-TW"):
        assert str(error) == "沒有名為 'missing' 的使用者資料集。請先建立它。"
        assert str(pickle.loads(pickle.dumps(error))) == "沒有名為 'missing' 的使用者資料集。請先建立它。"
    assert str(pickle.loads(pickle.dumps(error))) == "There is no user dataset called 'missing'. Create it first."


def test_a_plain_name_refusal_translates_what_it_names(tmp_path):
    store = UserMaskStore(tmp_path)
    store.create("pets", ["background", "pet"])
    image = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(DatasetError) as caught:
        store.save_mask("pets", image, np.zeros((64, 64), np.uint8), item_id="bad name!")
    assert str(caught.value).startswith("The item id 'bad name!' is not a plain name.")
    with use_language("zh-TW"):
        assert str(caught.value).startswith("項目名稱 'bad name!' 不是簡單的名稱。")


def test_mask_and_instance_map_refusals_in_chinese():
    with pytest.raises(MaskError) as caught:
        parse_class_names("background")
    assert str(caught.value).startswith("Give at least two classes, one per line")
    with use_language("zh-TW"):
        assert str(caught.value).startswith("請至少提供兩個類別")
    mask = np.zeros((8, 8), np.uint8)
    with pytest.raises(InstanceDataError) as caught:
        instances_from_maps(mask, np.zeros((8, 9), np.uint8), (8, 8, 3))
    assert str(caught.value) == "The instance map is 9 × 8 pixels but its picture is 8 × 8: a mask must have its picture's size."
    with use_language("zh-TW"):
        assert str(caught.value) == "實體圖是 9 × 8 像素，但它的圖片是 8 × 8：遮罩必須和圖片一樣大。"


def test_access_and_dataset_errors_in_chinese():
    policy = ServingPolicy(class_mode=True, max_active_runs=2)
    with pytest.raises(AccessError) as caught:
        policy.check_queue(active_runs=2)
    assert str(caught.value) == ("This lab serves a class: each browser may have at most 2 runs queued or running at "
                                 "once, and you have 2. Wait for one to finish (or cancel one) to start this run.")
    with use_language("zh-TW"):
        assert str(caught.value).endswith("再開始這次訓練。")
    with pytest.raises(AccessError) as caught:
        policy.check_queue(active_runs=1, adding=3)
    assert str(caught.value).endswith("to start these 3 runs.")
    with pytest.raises(DatasetError) as caught:
        open_dataset("no-such-dataset")
    with use_language("zh-TW"):
        assert str(caught.value).startswith("資料集名稱應為")


def test_download_error_in_chinese():
    error = DownloadError("The server refused {url}: HTTP {code} {reason}.", url="http://x", code=404, reason="Not Found")
    assert str(error) == "The server refused http://x: HTTP 404 Not Found."
    with use_language("zh-TW"):
        assert str(error) == "伺服器拒絕了 http://x：HTTP 404 Not Found。"
