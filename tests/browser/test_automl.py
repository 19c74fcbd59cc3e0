"""AutoML end to end in a browser, against a real ``manage.py serve`` (daphne plus the embedded
worker): a new user uploads a CSV on the datasets page, builds a classification workflow in the
builder, runs it, and sees the job finish live with its accuracy and confusion-matrix image."""

import numpy as np
import pytest
from playwright.sync_api import Page, expect
from sklearn.datasets import load_iris

from tests.served import served_hangar

pytestmark = pytest.mark.browser
PASSWORD = "Sturdy-Passw0rd!"
JOB_TIMEOUT_MS = 180_000
CATALOGUE_TIMEOUT_MS = 90_000


def _iris_csv(path) -> None:
    frame = load_iris(as_frame=True).frame
    frame.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
    frame["species"] = np.array(["setosa", "versicolor", "virginica"])[frame["species"]]
    frame.to_csv(path, index=False)


def test_upload_build_run_and_see_results(page: Page, tmp_path) -> None:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    csv = tmp_path / "iris.csv"
    _iris_csv(csv)
    served = tmp_path / "served"
    served.mkdir()
    files = {"MEDIA_ROOT": str(served / "media"), "JOBS_WORK_DIR": str(served / "jobs")}
    with served_hangar(served, **files) as hangar:
        page.goto(hangar.url + "/register")
        page.fill("#username", "modeller")
        page.fill("#email", "modeller@example.com")
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Register").click()
        page.wait_for_url("**/verify-email")

        # Upload on the datasets page and wait for ingestion.
        page.goto(hangar.url + "/datasets")
        page.set_input_files("#dataset-file", str(csv))
        page.fill("#dataset-name", "iris")
        page.select_option("#problem-type", "classification")
        page.fill("#target-column", "species")
        page.click("#upload-submit")
        expect(page.locator("#dataset-rows tr[data-status='completed']")).to_have_count(1, timeout=60_000)

        # Build: the dataset, its target, one random forest, accuracy and the confusion matrix.
        page.goto(hangar.url + "/workflows")
        # The first catalogue request imports scikit-learn and matplotlib in the server: be patient.
        expect(page.locator("#dataset option[value]:not([value=''])")).to_have_count(1, timeout=CATALOGUE_TIMEOUT_MS)
        expect(page.locator("#target option[value='species']")).to_have_count(1)
        page.select_option("#target", "species")
        page.select_option("#problem-type", "classification")
        expect(page.locator("#model-choice option[value='random_forest']")).to_have_count(1)
        page.select_option("#model-choice", "random_forest")
        page.click("#add-model")
        card = page.locator("#model-list .step-card[data-plugin='random_forest']")
        expect(card).to_have_count(1)
        card.locator("input[data-key='n_estimators']").fill("30")
        expect(page.locator("#metrics input[value='accuracy']")).to_be_checked()
        expect(page.locator("#plots input[value='confusion_matrix']")).to_be_checked()
        page.fill("#cv-folds", "3")
        page.fill("#workflow-name", "Iris forest")
        page.click("#validate")
        expect(page.locator("#builder-notice")).to_contain_text("Valid")
        page.click("#run")
        page.wait_for_url("**/jobs/*")

        # The job page follows the run over the WebSocket to the end.
        expect(page.locator("#job")).to_have_attribute("data-status", "completed", timeout=JOB_TIMEOUT_MS)
        expect(page.locator("#job-title")).to_have_text("Iris forest")
        accuracy = page.locator("#leaderboard td[data-metric='accuracy']")
        expect(accuracy).to_have_count(1)
        assert 0.8 < float(accuracy.inner_text()) <= 1.0
        image = page.locator("#plots figure[data-plot='confusion_matrix'] img")
        expect(image).to_have_count(1)
        page.wait_for_function(
            "() => { const img = document.querySelector(\"#plots figure[data-plot='confusion_matrix'] img\");"
            " return img && img.complete && img.naturalWidth > 100; }"
        )
        expect(page.locator("#leaderboard a", has_text="Download model")).to_have_count(1)
        expect(page.locator(".node-row[data-status='completed']")).to_have_count(3)

        # The jobs list shows it, completed.
        page.goto(hangar.url + "/jobs")
        expect(page.locator("#job-rows tr[data-status='completed']")).to_have_count(1)
    assert errors == []
