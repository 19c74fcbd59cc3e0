"""The datasets and credits pages end to end in a browser, against a real ``manage.py serve``:
upload a CSV through the signed URL with the progress bar, see it profiled on its page, upload a
new version, see a broken file fail with its reason, delete; then the credits page's balance,
mock purchase and transactions. No console error is allowed."""

import pytest
from playwright.sync_api import Page, expect

from tests.served import served_hangar

pytestmark = pytest.mark.browser
PASSWORD = "Sturdy-Passw0rd!"
CSV = "id,age,city,comment\n" + "".join(
    f"{i},{20 + i % 50},{['Paris', 'Lyon', 'Nice'][i % 3]},customer number {i} wrote a long comment here\n"
    for i in range(1, 501)
)


def test_datasets_and_credits_pages(page: Page, tmp_path) -> None:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    data = tmp_path / "people.csv"
    data.write_text(CSV)
    broken = tmp_path / "broken.csv"
    broken.write_text("a,b\n1,2\n3,4,5\n")
    served = tmp_path / "served"
    served.mkdir()
    with served_hangar(served, MEDIA_ROOT=str(served / "media")) as hangar:
        page.goto(hangar.url + "/register")
        page.fill("#username", "analyst")
        page.fill("#email", "analyst@example.com")
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Register").click()
        page.wait_for_url("**/verify-email")

        page.goto(hangar.url + "/datasets")
        expect(page.locator("#datasets")).to_have_attribute("data-loaded", "true")
        expect(page.locator("#dataset-empty")).to_be_visible()
        page.set_input_files("#dataset-file", str(data))
        expect(page.locator("#dataset-name")).to_have_value("people")
        page.select_option("#problem-type", "regression")
        page.fill("#target-column", "age")
        page.click("#upload-submit")
        expect(page.locator("#upload-progress")).to_have_attribute("aria-valuenow", "100", timeout=60_000)
        expect(page.locator("#upload-notice")).to_contain_text("is ready")
        row = page.locator("#dataset-rows tr[data-status='completed']")
        expect(row).to_have_count(1)
        expect(row.locator("td").nth(2)).to_have_text("500")

        row.locator("a.dataset-name").click()
        page.wait_for_url("**/datasets/*")
        expect(page.locator("#dataset")).to_have_attribute("data-loaded", "true")
        expect(page.locator("#profile-rows tr")).to_have_count(4)
        expect(page.locator("#profile-rows tr[data-column='id']")).to_have_attribute("data-role", "id")
        expect(page.locator("#profile-rows tr[data-column='city']")).to_have_attribute("data-role", "categorical")
        expect(page.locator("#profile-rows tr[data-column='comment']")).to_have_attribute("data-role", "text")
        expect(page.locator("#profile-rows tr[data-column='city'] td").last).to_contain_text("Lyon (167)")
        expect(page.locator("#info-rows")).to_have_text("500")

        # A broken second version fails with its reason; the first stays current.
        page.set_input_files("#version-file", str(broken))
        page.fill("#version-label", "broken")
        page.locator("#version-form button[type=submit]").click()
        expect(page.locator("#upload-notice")).to_contain_text("Expected 2 columns, got 3", timeout=60_000)
        expect(page.locator("#version-rows tr[data-version='2']")).to_have_attribute("data-status", "failed")
        expect(page.locator("#info-version")).to_have_text("v1")

        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#dataset-delete")
        page.wait_for_url("**/datasets")
        expect(page.locator("#dataset-empty")).to_be_visible()

        page.goto(hangar.url + "/credits")
        expect(page.locator("#credits")).to_have_attribute("data-loaded", "true")
        expect(page.locator("#credit-balance")).to_have_text("100")
        expect(page.locator("#transaction-rows tr[data-type='grant']")).to_have_count(1)
        page.fill("#purchase-amount", "50")
        page.get_by_role("button", name="Add credits (mock purchase)").click()
        expect(page.locator("#credit-balance")).to_have_text("150")
        expect(page.locator("#transaction-rows tr[data-type='purchase']")).to_have_count(1)
    assert errors == []
