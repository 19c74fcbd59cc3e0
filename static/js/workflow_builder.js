// The /workflows builder: a dataset and target, a chain of preprocessing steps, one or more models
// (forms built from the hyperparameter definitions of /api/plugins/*/{slug}), metrics, plots and
// cross-validation; Validate asks /api/workflows/validate, Run posts /api/workflows/execute and
// opens the job's page. The graph sent is dataset -> preprocessing chain -> models -> evaluation.

import { api, describeError, h, notify } from "./api.js";

const form = document.getElementById("builder");
const datasetSelect = document.getElementById("dataset");
const problemSelect = document.getElementById("problem-type");
const targetSelect = document.getElementById("target");
const targetField = document.getElementById("target-field");
const datasetFacts = document.getElementById("dataset-facts");
const datasetNotice = document.getElementById("dataset-notice");
const preprocessingChoice = document.getElementById("preprocessing-choice");
const preprocessingList = document.getElementById("preprocessing-list");
const modelChoice = document.getElementById("model-choice");
const modelList = document.getElementById("model-list");
const metricsBox = document.getElementById("metrics");
const plotsBox = document.getElementById("plots");
const notice = document.getElementById("builder-notice");
const problems = document.getElementById("problems");

const DEFAULT_METRICS = { classification: ["accuracy", "f1"], regression: ["r2", "rmse"], clustering: ["silhouette"] };
const DEFAULT_PLOTS = { classification: ["confusion_matrix"], regression: ["residuals"], clustering: ["cluster_scatter"] };

let datasets = new Map();
let nextId = 1;
// Each added node: {id, kind: "preprocessing"|"model", slug, detail, element}
const steps = [];

function option(value, label, selected = false) {
  return h("option", { value, selected }, label);
}

// --- Data -------------------------------------------------------------------------------------

async function loadDatasets() {
  try {
    const page = await api("/api/datasets?per_page=100");
    const ready = (page.datasets || []).filter((dataset) => dataset.status === "completed");
    datasets = new Map(ready.map((dataset) => [String(dataset.id), dataset]));
    if (!ready.length) {
      datasetSelect.replaceChildren(option("", "No processed datasets yet"));
      notify(datasetNotice, "Upload a dataset on the Datasets page first.", "info");
      return;
    }
    const wanted = new URLSearchParams(location.search).get("dataset");
    datasetSelect.replaceChildren(...ready.map((d) => option(String(d.id), d.name, String(d.id) === wanted)));
    onDatasetChange();
  } catch (error) {
    notify(datasetNotice, `Could not load your datasets: ${describeError(error)}`);
  }
}

function onDatasetChange() {
  const dataset = datasets.get(datasetSelect.value);
  if (!dataset) return;
  if (dataset.problem_type) problemSelect.value = dataset.problem_type;
  const columns = (dataset.columns_metadata || []).map((column) => column.name);
  const target = dataset.target_column || columns[columns.length - 1] || "";
  targetSelect.replaceChildren(...columns.map((name) => option(name, name, name === target)));
  datasetFacts.textContent = `${dataset.row_count ?? "?"} rows, ${dataset.column_count ?? columns.length} columns`;
  onProblemChange();
}

async function onProblemChange() {
  targetField.hidden = problemSelect.value === "clustering";
  await Promise.all([loadModelChoices(), loadEvaluationChoices()]);
}

// --- Catalogue --------------------------------------------------------------------------------

async function loadPreprocessingChoices() {
  const plugins = await api("/api/plugins/preprocessing");
  preprocessingChoice.replaceChildren(...plugins.map((plugin) => option(plugin.slug, `${plugin.name} (${plugin.category})`)));
}

async function loadModelChoices() {
  const plugins = await api(`/api/plugins/models?problem_type=${problemSelect.value}`);
  modelChoice.replaceChildren(...plugins.map((plugin) => option(plugin.slug, plugin.name)));
}

function checkboxes(box, plugins, defaults, name) {
  box.replaceChildren(
    ...plugins.map((plugin) =>
      h(
        "label",
        {},
        h("input", { type: "checkbox", name, value: plugin.slug, checked: defaults.includes(plugin.slug) }),
        plugin.name,
      ),
    ),
  );
}

async function loadEvaluationChoices() {
  const problem = problemSelect.value;
  const [metrics, plots] = await Promise.all([
    api(`/api/plugins/metrics?problem_type=${problem}`),
    api(`/api/plugins/plots?problem_type=${problem}`),
  ]);
  checkboxes(metricsBox, metrics, DEFAULT_METRICS[problem] || [], "metrics");
  checkboxes(plotsBox, plots, DEFAULT_PLOTS[problem] || [], "plots");
}

// --- Parameter forms --------------------------------------------------------------------------

function paramInput(param) {
  const id = `param-${nextId}-${param.key}`;
  nextId += 1;
  let input;
  if (param.type === "select") {
    input = h(
      "select",
      { id, dataset: { key: param.key, type: param.type } },
      ...param.options.map((choice, index) =>
        h("option", { value: String(index), selected: choice.value === param.default }, choice.label),
      ),
    );
  } else if (param.type === "boolean") {
    input = h("input", { id, type: "checkbox", checked: Boolean(param.default), dataset: { key: param.key, type: param.type } });
    return h("label", { className: "checkbox", title: param.description }, input, param.name);
  } else if (param.type === "number" || param.type === "integer") {
    input = h("input", {
      id,
      type: "number",
      min: param.min ?? undefined,
      max: param.max ?? undefined,
      step: param.step ?? (param.type === "integer" ? 1 : "any"),
      value: param.default ?? "",
      placeholder: param.nullable ? "none" : "",
      dataset: { key: param.key, type: param.type, nullable: param.nullable ? "1" : "" },
    });
  } else {
    input = h("input", { id, value: param.default ?? "", dataset: { key: param.key, type: param.type } });
  }
  input._choices = param.options?.map((choice) => choice.value);
  return h("label", { htmlFor: id, title: param.description }, param.name, input);
}

function paramsOf(element) {
  const params = {};
  for (const input of element.querySelectorAll("[data-key]")) {
    const { key, type, nullable } = input.dataset;
    if (type === "boolean") params[key] = input.checked;
    else if (type === "select") params[key] = input._choices[Number(input.value)];
    else if (type === "integer" || type === "number") {
      if (input.value === "") {
        if (nullable) params[key] = null;
      } else params[key] = type === "integer" ? parseInt(input.value, 10) : parseFloat(input.value);
    } else params[key] = input.value;
  }
  return params;
}

async function addStep(kind) {
  const select = kind === "model" ? modelChoice : preprocessingChoice;
  const slug = select.value;
  if (!slug) return;
  const base = kind === "model" ? "models" : "preprocessing";
  const query = kind === "model" ? `?problem_type=${problemSelect.value}` : "";
  let detail;
  try {
    detail = await api(`/api/plugins/${base}/${slug}${query}`);
  } catch (error) {
    notify(notice, describeError(error));
    return;
  }
  const id = `${kind === "model" ? "model" : "prep"}-${nextId}`;
  nextId += 1;
  const groups = detail.hyperparameters || { main: [], advanced: [] };
  const step = { id, kind, slug };
  const remove = h("button", { type: "button", className: "button button-small button-quiet", onclick: () => removeStep(step) }, "Remove");
  const advanced = groups.advanced?.length
    ? h("details", { className: "advanced" }, h("summary", {}, "Advanced"), h("div", { className: "params" }, ...groups.advanced.map(paramInput)))
    : null;
  step.element = h(
    "li",
    { className: "step-card", dataset: { nodeId: id, plugin: slug } },
    h("header", {}, h("h3", {}, detail.name), remove),
    h("div", { className: "params" }, ...(groups.main || []).map(paramInput)),
    advanced,
  );
  steps.push(step);
  (kind === "model" ? modelList : preprocessingList).append(step.element);
}

function removeStep(step) {
  steps.splice(steps.indexOf(step), 1);
  step.element.remove();
}

// --- The graph --------------------------------------------------------------------------------

function checked(box) {
  return [...box.querySelectorAll("input:checked")].map((input) => input.value);
}

function graph() {
  const problem = problemSelect.value;
  const data = { dataset_id: Number(datasetSelect.value), problem_type: problem };
  if (problem !== "clustering") data.target_column = targetSelect.value;
  const nodes = [{ id: "dataset", type: "dataset", data }];
  const edges = [];
  let previous = "dataset";
  for (const step of steps.filter((s) => s.kind === "preprocessing")) {
    nodes.push({ id: step.id, type: "preprocessing", data: { plugin: step.slug, params: paramsOf(step.element) } });
    edges.push({ source: previous, target: step.id });
    previous = step.id;
  }
  const evaluation = {
    metrics: checked(metricsBox),
    plots: checked(plotsBox),
    cv_folds: parseInt(document.getElementById("cv-folds").value, 10),
    test_size: parseFloat(document.getElementById("test-size").value),
  };
  for (const step of steps.filter((s) => s.kind === "model")) {
    nodes.push({ id: step.id, type: "model", data: { plugin: step.slug, params: paramsOf(step.element) } });
    edges.push({ source: previous, target: step.id }, { source: step.id, target: "evaluation" });
  }
  nodes.push({ id: "evaluation", type: "evaluation", data: evaluation });
  return { nodes, edges };
}

function showProblems(errors) {
  problems.replaceChildren(
    ...(errors || []).map((error) => h("li", {}, [error.node_id, error.field].filter(Boolean).join(" · ") + `: ${error.message}`)),
  );
  problems.hidden = !errors?.length;
  for (const step of steps) step.element.classList.toggle("has-error", (errors || []).some((e) => e.node_id === step.id));
}

async function validate() {
  notify(notice, "");
  try {
    const result = await api("/api/workflows/validate", { method: "POST", body: graph() });
    showProblems(result.errors);
    if (result.valid) notify(notice, `Valid. Estimated cost: ${result.estimated_cost} credits.`, "info");
    else notify(notice, "The workflow has problems:");
    return result.valid;
  } catch (error) {
    notify(notice, describeError(error));
    return false;
  }
}

async function run(event) {
  event.preventDefault();
  const button = document.getElementById("run");
  button.disabled = true;
  notify(notice, "Submitting…", "info");
  try {
    const name = document.getElementById("workflow-name").value.trim();
    const job = await api("/api/workflows/execute", { method: "POST", body: { ...graph(), ...(name ? { name } : {}) } });
    location.assign(`/jobs/${job.job_id}`);
  } catch (error) {
    showProblems(error.body?.errors);
    notify(notice, describeError(error));
    button.disabled = false;
  }
}

datasetSelect.addEventListener("change", onDatasetChange);
problemSelect.addEventListener("change", onProblemChange);
document.getElementById("add-preprocessing").addEventListener("click", () => addStep("preprocessing"));
document.getElementById("add-model").addEventListener("click", () => addStep("model"));
document.getElementById("validate").addEventListener("click", validate);
form.addEventListener("submit", run);

Promise.all([loadPreprocessingChoices(), loadModelChoices(), loadEvaluationChoices()])
  .then(loadDatasets)
  .catch((error) => notify(notice, `Could not load the catalogue: ${describeError(error)}`));
