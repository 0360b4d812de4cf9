"""The last cv_core messages of issue 18's "Other gaps": the Train form's model-size refusals, the
built-in datasets' own errors, the keypoint files' CocoFormatError and the niche task tables'
summaries read in Chinese under ``use_language("zh-TW")`` and exactly as before in English."""

from __future__ import annotations

import pickle

import pytest

from cv_core.i18n import use_language
from cv_core.runs import SpecError
from cv_core.runs.cost import MEMORY_BUDGET_ENV, ArchitectureCost, ResourceBudget, _gigabytes, _refuse
from cv_core.runs.labels import dataset_label, variant_label
from cv_core.runs.spec import preset_spec

QUICK = preset_spec("quick")
COST = ArchitectureCost(params=123_456_789, mult_adds=1, activations=9_876_543, largest_map=1)


def _old_refusal(cost, spec, budget, need, training, margin):
    """The English the f-strings of cv_core/runs/cost.py wrote before they were marked."""
    rough = "roughly " if margin > 1 else ""
    if cost.params > margin * budget.max_params:
        return (f"This model would have {rough}{cost.params:,} parameters; the lab's limit is {budget.max_params:,}. "
                f"Use fewer or narrower filters (received filters={list(spec.filters)}).")
    what = "to train" if training else "to build"
    return (f"This run would need {rough or 'about '}{_gigabytes(need)} of memory {what} "
            f"({cost.activations:,} activations per image at {spec.image_size} px, batch {spec.batch_size}, "
            f"{rough}{cost.params:,} parameters); the limit on this machine is {_gigabytes(budget.memory_bytes)} "
            f"(set ${MEMORY_BUDGET_ENV} to change it). Use smaller images, a smaller batch or fewer filters.")


@pytest.mark.parametrize("margin", [1, 4])
@pytest.mark.parametrize("case", ["params", "train", "build"])
def test_the_model_size_refusals_read_as_before_in_english_and_in_chinese(case, margin):
    budget = ResourceBudget(max_params=10 if case == "params" else 10**12, memory_bytes=1024**3)
    need, training = 5 * 1024**3 + 7 * 1024**2, case != "build"
    with pytest.raises(SpecError) as caught:
        _refuse(COST, QUICK, budget, need, training, margin)
    error = caught.value
    assert str(error) == _old_refusal(COST, QUICK, budget, need, training, margin)
    with use_language("zh-TW"):
        chinese = str(error)
        assert chinese != str(caught.value.message)
        assert "123,456,789" in chinese and "\u7684" in chinese  # the number, in a Chinese sentence
        if case == "params":
            assert chinese.startswith("這個模型") and "過濾器" in chinese
        else:
            assert "5.0 GB" in chinese and "1.0 GB" in chinese and MEMORY_BUDGET_ENV in chinese
            assert ("訓練" in chinese) == training and ("建立" in chinese) == (not training)
        assert ("大約" in chinese) == (margin > 1)
        assert str(pickle.loads(pickle.dumps(error))) == chinese
    assert str(error) == _old_refusal(COST, QUICK, budget, need, training, margin)


def test_the_memory_budget_variable_refusal_in_both_languages(monkeypatch):
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "lots")
    with pytest.raises(SpecError) as caught:
        ResourceBudget.for_this_machine()
    assert str(caught.value) == f"Expected ${MEMORY_BUDGET_ENV} to be a number of megabytes > 0. Received: 'lots'"
    with use_language("zh-TW"):
        assert str(caught.value) == f"${MEMORY_BUDGET_ENV} 應為大於 0 的 MB 數。收到：'lots'"


def test_an_empty_grid_is_refused_in_both_languages(tmp_path):
    from cv_core.runs.jobs import submit_grid

    with pytest.raises(SpecError) as caught:
        submit_grid(QUICK, conv_types=(), batchnorms=("none",), seeds=(0,), runs_root=tmp_path)
    assert str(caught.value) == ("Expected at least one conv type, batch norm placement and seed. Received: "
                                 "conv_types=(), batchnorms=('none',), seeds=(0,)")
    with use_language("zh-TW"):
        assert str(caught.value).startswith("至少需要一種卷積類型、一種批次正規化位置和一個隨機種子。")


# --- the built-in datasets' own errors, the keypoint files' CocoFormatError, check_keypoints ---

def _both(error):
    """``(english, chinese)`` of one error, the Chinese also after pickling (st.cache_data)."""
    english = str(error)
    with use_language("zh-TW"):
        chinese = str(error)
        assert str(pickle.loads(pickle.dumps(error))) == chinese
    assert str(error) == english
    return english, chinese


def test_the_shapes_options_are_refused_in_both_languages():
    from cv_core.datasets import DatasetError, open_dataset

    with pytest.raises(DatasetError) as caught:
        open_dataset("shapes", image_size=4)
    english, chinese = _both(caught.value)
    assert english.startswith("Expected `image_size` between ") and english.endswith(
        " and 512. Received: image_size=4")
    assert chinese.startswith("`image_size` 應在 ") and chinese.endswith("收到：image_size=4")
    with pytest.raises(DatasetError) as caught:
        open_dataset("shapes", difficulty="impossible")
    english, chinese = _both(caught.value)
    assert english.startswith("Expected `difficulty` to be one of (") and english.endswith(
        "Received: difficulty='impossible'")
    assert "之一。收到：difficulty='impossible'" in chinese


def test_an_oxford_pets_folder_of_another_layout_is_refused_in_both_languages(tmp_path):
    from cv_core.datasets import DatasetError, open_dataset

    with pytest.raises(DatasetError) as caught:
        open_dataset("oxford_pets", tmp_path)
    english, chinese = _both(caught.value)
    assert english == (f"{str(tmp_path)!r} does not hold the Oxford-IIIT Pets layout. Expected the folders images/ "
                       "(the .jpg photos) and annotations/trimaps/ (the .png masks), as unpacked from images.tar.gz "
                       "and annotations.tar.gz.")
    assert chinese.startswith(f"{str(tmp_path)!r} 不是 Oxford-IIIT Pets 的結構。")


def test_a_pets_head_box_file_is_refused_in_both_languages(tmp_path):
    from cv_core.datasets.pets_xml import PetsXmlError, read_pet_head_box, read_pet_head_boxes

    with pytest.raises(PetsXmlError) as caught:
        read_pet_head_box(b"<annotation><object><bndbox><xmin>a</xmin></bndbox></object></annotation>")
    assert _both(caught.value) == ("annotation: <xmin> is 'a', not a number.", "annotation: <xmin> 是 'a'，不是數字。")
    (tmp_path / "annotations" / "xmls").mkdir(parents=True)
    (tmp_path / "annotations" / "xmls" / "Abyssinian_1.xml").write_bytes(b"<annotation>")
    boxes, skipped = read_pet_head_boxes(tmp_path)
    assert boxes == {} and skipped[0].startswith("Abyssinian_1.xml: malformed XML (")
    with use_language("zh-TW"):
        assert str(skipped[0]).startswith("Abyssinian_1.xml: XML 格式錯誤（")


def test_a_coco_keypoint_file_problem_reads_in_both_languages(tmp_path):
    from cv_core.datasets import DatasetError, open_dataset
    from cv_core.keypoints.coco import CocoFormatError, read_coco_keypoints

    data = {"images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
            "annotations": [{"id": 7, "image_id": 1, "category_id": 1, "keypoints": [3, 4, 5], "num_keypoints": 1,
                             "bbox": [0, 0, 5, 5], "area": 25}],
            "categories": [{"id": 1, "name": "dot", "keypoints": ["tip"], "skeleton": []}]}
    with pytest.raises(CocoFormatError) as caught:
        read_coco_keypoints(data)
    english, chinese = _both(caught.value)
    # the f-string's English: where = annotations[0] (id 7, picture 'a.jpg'), joint = joint 1 ('tip')
    assert english == ("annotations[0] (id 7, picture 'a.jpg'): joint 1 ('tip') has v = 5; COCO's v is 0 (not "
                       "labelled), 1 (hidden) or 2 (visible).")
    assert chinese == ("annotations[0]（id 7，圖片 'a.jpg'）：關節 1（'tip'）的 v = 5；COCO 的 v 是 0（未標註）、1（隱藏）"
                       "或 2（可見）。")
    data["annotations"][0]["keypoints"] = [3, 4, 2]
    data["annotations"][0]["extra"] = 1
    assert str(read_coco_keypoints(data).warnings[0]) == (
        "Annotations have a field 'extra' that COCO's keypoint format does not define (1 times); it was ignored.")
    with pytest.raises(CocoFormatError) as caught:
        read_coco_keypoints(data, strict=True)
    assert _both(caught.value) == (
        "Annotations have a field 'extra' that COCO's keypoint format does not define (1 times).",
        "Annotations 有 COCO 關鍵點格式未定義的欄位 'extra'（1 次）。")
    with use_language("zh-TW"):
        assert str(read_coco_keypoints(data).warnings[0]).endswith("（1 次）；已忽略。")
    # the dataset names the file before the file's own problem, in the reader's language
    (tmp_path / "people.json").write_text('{"images": []}', encoding="utf-8")
    with pytest.raises(DatasetError) as caught:
        open_dataset("coco_keypoints", tmp_path)
    assert _both(caught.value) == (
        "people.json: The file has no 'annotations' list; a COCO keypoint file needs 'images', 'annotations' and "
        "'categories'.",
        "people.json：檔案沒有 'annotations' 清單；COCO 關鍵點檔案需要 'images'、'annotations' 和 'categories'。")


def test_check_keypoints_and_a_dataset_without_keypoints_in_both_languages():
    from cv_core.datasets import DatasetError, open_dataset
    from cv_core.keypoints import KeypointError, check_keypoints
    from cv_core.keypoints.targets import check_keypoint_dataset

    with pytest.raises(KeypointError) as caught:
        check_keypoints([[1.0, 2.0], [30.0, 4.0]], [2, 2], 2, (10, 20))
    assert isinstance(caught.value, ValueError)
    assert _both(caught.value) == (
        "Expected the labelled joints of keypoints inside the 20×10 picture. Joint 1 is at (30, 4).",
        "關鍵點的已標註關節應在 20×10 的圖片內。關節 1 位於 (30, 4)。")
    with pytest.raises(KeypointError) as caught:
        check_keypoints([[1.0, 2.0]], [2], 3, what="person 2")
    assert str(caught.value) == "Expected 3 joints in person 2 (one per joint of the skeleton). Received 1."
    with pytest.raises(DatasetError) as caught:
        check_keypoint_dataset(open_dataset("shapes", train_size=2, validation_size=1, test_size=1))
    english, chinese = _both(caught.value)
    assert english.startswith("The 'shapes' dataset has no keypoints, so it cannot train a keypoint model.")
    assert chinese.startswith("'shapes' 資料集沒有關鍵點，無法訓練關鍵點模型。")


# --- the keypoints and similarity task tables: summaries and score rows ---

def test_the_keypoint_score_rows_read_in_both_languages():
    from cv_core.runs.tasks import TASKS

    scores = {"validation": {"kp_ap": 0.5, "kp_ap50": 0.8, "kp_ap75": 0.4, "pck": 0.9,
                             "joint_names": ["left_ankle", "tip"], "joint_pck": [1.0, 0.5], "joint_error": [2.0, 3.0]}}
    english = TASKS["keypoints"].score_rows(scores)
    assert english[4] == {"score": "PCK@0.2, left_ankle", "validation": 1.0}
    assert english[7] == {"score": "Mean error in pixels, tip", "validation": 3.0}
    with use_language("zh-TW"):
        chinese = TASKS["keypoints"].score_rows(scores)
    assert [row["分數"] for row in chinese] == [
        "關鍵點 AP（OKS 0.50:0.95）", "OKS 0.50 下的關鍵點 AP", "OKS 0.75 下的關鍵點 AP", "PCK@0.2，所有關節",
        "PCK@0.2，左腳踝", "PCK@0.2，tip", "平均誤差（像素），左腳踝", "平均誤差（像素），tip"]
    assert [row["驗證"] for row in chinese] == [row["validation"] for row in english]


def test_the_similarity_score_rows_read_in_both_languages():
    from cv_core.runs.tasks import TASKS

    scores = {"validation": {"precision_at_1": 0.9, "map_at_r": 0.7}, "test": {"precision_at_1": 0.8}}
    english = TASKS["similarity"].score_rows(scores)
    assert english[0] == {"score": "Precision@1: the nearest other picture is of the same class",
                          "validation": 0.9, "test": 0.8}
    with use_language("zh-TW"):
        chinese = TASKS["similarity"].score_rows(scores)
    assert chinese[0] == {"分數": "Precision@1：最近的另一張圖片屬於同一類別", "驗證": 0.9, "測試": 0.8}
    assert chinese[3]["分數"].startswith("MAP@R：") and chinese[3]["驗證"] == 0.7


@pytest.mark.parametrize("model", ["pose_centernet", "keypoint_heatmap", "keypoint_regression"])
def test_the_keypoint_model_summaries_read_in_both_languages(model):
    from cv_core.keypoints.task import KEYPOINT_STRIDE
    from cv_core.runs.tasks import TASKS

    task = TASKS["keypoints"]
    spec = preset_spec("tiny", task="keypoints", model=model)
    title, caption = task.anatomy(spec, 17)
    cells = spec.image_size // KEYPOINT_STRIDE
    old = {  # the f-strings' English
        "pose_centernet": (f"{spec.variant}: backbone, neck, six heads",
                           f"Exactly the model **Train** builds: {spec.image_size} × {spec.image_size} px in; out, per "
                           f"cell of a grid {cells} cells wide: a person-centre heatmap, a box size and offset, 17 "
                           f"joint offsets from the centre, 17 joint heatmaps and their in-cell offsets "
                           f"({spec.dataset})."),
        "keypoint_heatmap": (f"{spec.variant}: backbone, neck, two heads",
                             f"Exactly the model **Train** builds: {spec.image_size} × {spec.image_size} px in; out, "
                             f"per cell of a grid {cells} cells wide: 17 joint heatmaps and each joint's offset within "
                             f"its cell ({spec.dataset})."),
        "keypoint_regression": (f"{spec.variant}: backbone, dense coordinates",
                                f"Exactly the model **Train** builds: {spec.image_size} × {spec.image_size} px in; "
                                f"out: 17 joints' (x, y) as fractions of the picture, from a dense layer on the last "
                                f"block's features ({spec.dataset})."),
    }[model]
    assert (title, caption) == old
    with use_language("zh-TW"):
        title, caption = task.anatomy(spec, 17)
        variant, dataset = variant_label(spec.variant), dataset_label(spec.dataset)
    assert variant != spec.variant and dataset != spec.dataset  # the variant and dataset in the reader's words
    assert title.startswith(f"{variant}：骨幹網路")
    assert caption.startswith(f"正是 **訓練** 建立的模型：輸入 {spec.image_size} × {spec.image_size} px")
    assert f"（{dataset}）" in caption and ("熱力圖" in caption) == (model != "keypoint_regression")


def test_the_similarity_model_summary_reads_in_both_languages():
    from cv_core.runs.tasks import TASKS
    from cv_core.similarity.model import EMBEDDING_DIM

    spec = preset_spec("tiny", task="similarity")
    assert TASKS["similarity"].anatomy(spec, None) == (
        f"{spec.variant}: a picture in, a vector out",
        f"Exactly the model **Train** builds: {spec.image_size} × {spec.image_size} px in, {EMBEDDING_DIM} numbers "
        f"out, scaled to length 1; no class output: two pictures compare by the cosine of their vectors, and "
        f"training pulls the pictures of a class of {spec.dataset} together.")
    with use_language("zh-TW"):
        title, caption = TASKS["similarity"].anatomy(spec, None)
        variant, dataset = variant_label(spec.variant), dataset_label(spec.dataset)
    assert variant != spec.variant and dataset != spec.dataset
    assert title == f"{variant}：輸入一張圖片，輸出一個向量"
    assert f"輸出 {EMBEDDING_DIM} 個數字" in caption and dataset in caption


# --- the spec's own field checks, each task's missing-data sentence, the model builders' refusals ---

def _spec_error(call):
    with pytest.raises(SpecError) as caught:
        call()
    return _both(caught.value)


FIELD_CASES = {
    # override: (the English the f-strings of cv_core/runs/spec.py wrote, the start of the Chinese)
    "epochs": (0, "Expected `epochs` to be a positive whole number. Received: epochs=0", "`epochs` 應為正整數。"),
    "conv_type": ("depthwise", "Expected `conv_type` to be one of ('separable', 'conv2d'). Received: "
                  "conv_type='depthwise'", "`conv_type` 應為 ('separable', 'conv2d') 其中之一。"),
    "residual": ("yes", "Expected `residual` to be True or False. Received: residual='yes'", "`residual` 應為 True 或 False。"),
    "continues": (5, "Expected `continues` to be text or None. Received: continues=5", "`continues` 應為文字或 None。"),
    "dataset": ("", "Expected `dataset` to be a dataset name. Received: dataset=''", "`dataset` 應為資料集名稱。"),
    "dataset_options": ([], "Expected `dataset_options` to be a dict. Received: dataset_options=[]",
                        "`dataset_options` 應為 dict。"),
    "task": ("painting", f"Expected `task` to be one of {tuple(__import__('cv_core.runs.tasks').runs.tasks.TASKS)}. "
             "Received: task='painting'", "`task` 應為 ("),
    "model": ("vgg", "Expected `model` to be one of ('mini_xception', 'small_convnet'). Received: model='vgg'",
              "`model` 應為 ('mini_xception', 'small_convnet') 其中之一。"),
    "filters": ((), "Expected `filters` to be a non-empty list of positive whole numbers. Received: filters=()",
                "`filters`（過濾器數量）應為"),
    "learning_rate": (float("inf"), "Expected `learning_rate` to be a finite number > 0. Received: learning_rate=inf",
                      "`learning_rate` 應為大於 0 的有限數。"),
    "dropout_rate": (1.0, "Expected `dropout_rate` in [0, 1). Received: dropout_rate=1.0", "`dropout_rate` 應在 [0, 1) 之間。"),
    "seed": (-1, "Expected `seed` to be a whole number >= 0. Received: seed=-1", "`seed` 應為 >= 0 的整數。"),
    "preset": ("huge", "Expected `preset` to be one of ('tiny', 'quick', 'book') or None. Received: preset='huge'",
               "`preset` 應為 ('tiny', 'quick', 'book') 其中之一或 None。"),
    "notes": (3, "Expected `notes` to be text. Received: notes=3", "`notes` 應為文字。"),
}


@pytest.mark.parametrize("field", FIELD_CASES)
def test_the_spec_field_checks_read_as_before_in_english_and_in_chinese(field):
    from cv_core.runs import validate_spec

    value, old, start = FIELD_CASES[field]
    english, chinese = _spec_error(lambda: validate_spec(QUICK.replace(**{field: value})))
    assert english == old
    assert chinese.startswith(start), chinese
    assert chinese.endswith("收到的是：" + old.split("Received: ", 1)[1])  # the received value, unchanged


def test_a_spec_that_is_not_a_dict_or_has_unknown_fields_or_an_unknown_preset_in_both_languages():
    import dataclasses

    from cv_core.runs.spec import TrainSpec

    english, chinese = _spec_error(lambda: TrainSpec.from_dict([1, 2]))
    assert (english, chinese) == ("Expected a spec as a dict. Received: list", "訓練設定應為 dict。收到的是：list")
    known = sorted(f.name for f in dataclasses.fields(TrainSpec))
    english, chinese = _spec_error(lambda: TrainSpec.from_dict({"nope": 1}))
    assert english == f"Expected spec fields among {known}. Received unknown: ['nope']"
    assert chinese == f"訓練設定的欄位應在 {known} 之中。收到不認得的欄位：['nope']"
    english, chinese = _spec_error(lambda: preset_spec("huge"))
    assert english == "Expected `preset` to be one of ('tiny', 'quick', 'book'). Received: preset='huge'"
    assert chinese == "`preset` 應為 ('tiny', 'quick', 'book') 其中之一。收到的是：preset='huge'"


def test_the_task_tables_lookups_in_both_languages():
    from cv_core.runs.tasks import TASKS, architecture_of, task_of

    english, chinese = _spec_error(lambda: task_of("painting"))
    assert english == f"Expected `task` to be one of {tuple(TASKS)}. Received: task='painting'"
    assert chinese == f"`task` 應為 {tuple(TASKS)} 其中之一。收到的是：task='painting'"
    english, chinese = _spec_error(lambda: architecture_of(QUICK.replace(task="segmentation", model="vgg")))
    models = tuple(TASKS["segmentation"].architectures)
    assert english == f"Expected `model` to be one of {models} for the segmentation task. Received: model='vgg'"
    assert chinese == f"segmentation 任務的 `model` 應為 {models} 其中之一。收到的是：model='vgg'"


def test_a_run_to_continue_without_a_model_or_a_spec_in_both_languages(tmp_path):
    from cv_core.runs import validate_spec
    from cv_core.runs.files import BEST_MODEL_FILE, LAST_MODEL_FILE

    english, chinese = _spec_error(lambda: validate_spec(QUICK.replace(continues=str(tmp_path))))
    assert english == (f"Expected `continues` to be a run folder with a saved model ({LAST_MODEL_FILE} or "
                       f"{BEST_MODEL_FILE}). Received: continues={str(tmp_path)!r}")
    assert chinese.startswith("`continues` 應為存有模型") and chinese.endswith(f"continues={str(tmp_path)!r}")
    (tmp_path / LAST_MODEL_FILE).write_bytes(b"")
    english, chinese = _spec_error(lambda: validate_spec(QUICK.replace(continues=str(tmp_path))))
    assert english == f"The run to continue has no readable spec: {str(tmp_path)!r}"
    assert chinese == f"要接著訓練的那次訓練沒有可讀取的訓練設定：{str(tmp_path)!r}"


def _old_missing(task, dataset: str) -> str:
    """The English the spec's f-string built from the task's words before each task had its sentence."""
    from cv_core.runs.tasks import dataset_names

    needs = " and ".join(attribute.removeprefix("has_") for attribute in task.requires)
    own = " or a mask dataset of your own (user:<name>)" if "has_masks" in task.requires else ""
    return (f"The {dataset!r} dataset has no {needs}, which {task.label.lower()} needs. "
            f"Choose one of {dataset_names(task)}{own}.")


@pytest.mark.parametrize(("task_name", "word"), [("segmentation", "影像分割"), ("instances", "實體分割"),
                                                 ("detection", "物體偵測"), ("keypoints", "關鍵點偵測與姿勢預估")])
def test_a_dataset_without_what_the_task_needs_is_refused_in_a_whole_sentence(tmp_path, task_name, word):
    from cv_core.datasets import open_dataset
    from cv_core.runs import validate_spec
    from cv_core.runs.tasks import dataset_names, task_of
    from tests.unit.fixtures_data import write_picture

    for name in ("a", "b"):
        for i in range(4):
            write_picture(tmp_path / name / f"{i}.png")
    folder = open_dataset("image_folder", str(tmp_path))
    spec = preset_spec("tiny", task=task_name).replace(dataset="image_folder", dataset_root=str(tmp_path),
                                                       dataset_options={}, batch_size=2)
    english, chinese = _spec_error(lambda: validate_spec(spec, dataset=folder))
    task = task_of(task_name)
    assert english == _old_missing(task, "image_folder")
    assert chinese.startswith("'image_folder' 資料集沒有" + word) and str(dataset_names(task)) in chinese


def test_the_task_data_checks_of_the_pipelines_in_both_languages(tmp_path):
    from cv_core.datasets import DatasetError, open_dataset
    from cv_core.detection.targets import check_detection_dataset
    from cv_core.instances.targets import check_instance_dataset
    from cv_core.segmentation.data import _check_masks
    from tests.unit.fixtures_data import write_picture

    for name in ("a", "b"):
        write_picture(tmp_path / name / "0.png")
    folder = open_dataset("image_folder", str(tmp_path))
    expected = {
        _check_masks: ("The 'image_folder' dataset has no segmentation masks, so it cannot be used to train a "
                       "segmentation model. Choose 'shapes' or 'oxford_pets'.", "分割遮罩"),
        check_instance_dataset: ("The 'image_folder' dataset has no instances (one mask per object), which instance "
                                 "segmentation needs. Choose 'shapes' (its 'crowded' difficulty has touching objects).",
                                 "實體分割"),
        check_detection_dataset: ("The 'image_folder' dataset has no object boxes, so it cannot be used to train a "
                                  "detector. Choose 'shapes', 'oxford_pets' (its pet or head boxes) or one of your mask "
                                  "datasets (boxes around each object of its masks).", "'image_folder' 資料集"),
    }
    for check, (old, word) in expected.items():
        with pytest.raises(DatasetError) as caught:
            check(folder)
        english, chinese = _both(caught.value)
        assert english == old and word in chinese and chinese.startswith("'image_folder'"), chinese


BUILDER_CASES = [
    # (builder path, arguments, the English the f-strings wrote, a piece of the Chinese)
    ("cv_core.segmentation.models:build_unet", dict(filters=(8,)),
     "Expected `filters` to have at least two levels (one encoder level and the bottleneck). Received: filters=(8,)",
     "至少要有兩層"),
    ("cv_core.segmentation.models:build_unet", dict(img_size=(102, 102), filters=(8, 16, 32)),
     "Expected `img_size` height and width to be multiples of 4 for the U-Net with these filters (so the output mask "
     "has the input's size). Received: img_size=(102, 102)", "用這些過濾器的 U-Net 需要"),
    ("cv_core.segmentation.models:build_segmentation_model", dict(img_size=(100, 100), filters=(8, 16, 32)),
     "Expected `img_size` height and width to be multiples of 8 for the segmentation model with these filters (so "
     "the output mask has the input's size). Received: img_size=(100, 100)", "的 影像分割模型 需要"),
    ("cv_core.classification.models:build_mini_xception", dict(input_shape=(6, 6, 3)),
     None, "用這些過濾器的 mini-Xception 需要"),
    ("cv_core.classification.models:build_small_convnet", dict(input_shape=(6, 6, 3)),
     None, "的 小型卷積網路 需要"),
    ("cv_core.similarity.model:build_embedding_net", dict(input_shape=(6, 6, 3)), None, "用這些過濾器的 mini-Xception 需要"),
    ("cv_core.detection.model:build_detector", dict(backbone_filters=(8, 16), output_stride=8),
     "Expected `output_stride` to be one of (2, 4) (a power of two no larger than the backbone's stride, "
     "2 ** len(backbone_filters)). Received: output_stride=8", "（2 的次方，且不大於骨幹網路的步幅 2 ** len(backbone_filters)）"),
    ("cv_core.detection.model:build_detector", dict(backbone_filters=()),
     "Expected `backbone_filters` to be a non-empty sequence of positive integers. Received: backbone_filters=()",
     "`backbone_filters` 應為非空的正整數序列"),
    ("cv_core.keypoints.models:build_pose_model", dict(img_size=(102, 102), backbone_filters=(8, 16)),
     "Expected `img_size` to be (height, width), each a positive multiple of 4 (2 ** len(backbone_filters), so every "
     "block halves the map exactly). Received: img_size=(102, 102)", "都是 4 的正整數倍"),
    ("cv_core.classification.models:build_mini_xception", dict(conv_type="depthwise"),
     "Expected `conv_type` to be one of ('separable', 'conv2d'). Received: conv_type='depthwise'",
     "`conv_type` 應為 ('separable', 'conv2d') 其中之一。"),
]


@pytest.mark.parametrize(("builder", "arguments", "old", "piece"), BUILDER_CASES)
def test_the_model_builders_refusals_read_in_both_languages(builder, arguments, old, piece):
    import importlib

    from cv_core.blocks import ModelArgumentError

    module, name = builder.split(":")
    build = getattr(importlib.import_module(module), name)
    with pytest.raises(ModelArgumentError) as caught:
        build(**arguments)
    assert isinstance(caught.value, ValueError)  # what callers catch
    english, chinese = _both(caught.value)
    if old is None:  # the minimum depends on the default filters: the sentence around it is what is checked
        model = {"build_small_convnet": "the small convnet"}.get(name, "the mini-Xception")
        assert english.startswith("Expected `input_shape` height and width of at least ") and english.endswith(
            f" pixels for {model} with these filters. Received: input_shape=(6, 6, 3)")
    else:
        assert english == old
    assert piece in chinese and "收到的是：" in chinese, chinese


@pytest.mark.parametrize("where", [pytest.param("in_process", marks=pytest.mark.slow), "child_process"])  # TF: ~8 s
def test_a_builder_refusal_passed_on_by_check_resources_reads_in_chinese(where, monkeypatch):
    """The Train form's refusal of a detector whose stride its backbone cannot reach: measured in this process
    or in the short-lived child that keeps TensorFlow out of it (its error comes back whole, not as text)."""
    from cv_core.runs import cost

    spec = preset_spec("tiny", task="detection", model="centernet_s8")  # stride 8 needs three blocks
    cost.clear_measurements()
    # Every model measured here, or every one in a child process (the builder refuses before Keras is imported).
    monkeypatch.setattr(cost, "IN_PROCESS_PARAMS", 10**12 if where == "in_process" else -1)
    english, chinese = _spec_error(lambda: cost.architecture_cost(spec, 5))
    assert english == ("Expected `output_stride` to be one of (2, 4) (a power of two no larger than the backbone's "
                       "stride, 2 ** len(filters)). Received: output_stride=8")
    assert chinese == ("`output_stride` 應為 (2, 4) 其中之一（2 的次方，且不大於骨幹網路的步幅 2 ** len(filters)）。"
                       "收到的是：output_stride=8")


def test_a_childs_refusal_comes_back_as_json_with_its_nested_sentences():
    """The measuring child writes its refusal as JSON (never a pickle); a nested LazyText field stays a
    sentence to translate, so the parent reads the whole refusal in the reader's language."""
    import json

    from cv_core import anatomy
    from cv_core.blocks import ModelArgumentError
    from cv_core.i18n import N_, LazyText

    error = ModelArgumentError(N_("Expected `img_size` to fit {model}. Received: {size}"),
                               model=LazyText(N_("the U-Net")), size=(7, 9))
    from cv_core.i18n import text_to_json

    line = anatomy._TRANSLATED + json.dumps(text_to_json(error))
    back = anatomy._translated_error("noise\n" + line + "\nerror: English\n")
    assert isinstance(back, ModelArgumentError) and isinstance(back, ValueError)
    assert str(back) == str(error) == "Expected `img_size` to fit the U-Net. Received: (7, 9)"
    with use_language("zh-TW"):
        assert "U-Net" in str(back.fields["model"]) and str(back.fields["model"]) != "the U-Net"
    assert anatomy._translated_error(anatomy._TRANSLATED + "not json") is None
    assert anatomy._translated_error(anatomy._TRANSLATED + json.dumps({"message": 3})) is None
