"""The one error type every runtime backend raises."""


class RuntimeBackendError(Exception):
    """A runtime failure. ``user_message`` is safe to show the user; ``detail`` is for the log only.

    ``code`` becomes the API's ``error_code`` (for example ``IMAGE_UNAVAILABLE``).
    """

    def __init__(self, user_message: str, *, code: str = "RUNTIME_ERROR", detail: str = "") -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.code = code
        self.detail = detail or user_message


class ImageUnavailable(RuntimeBackendError):
    """The host cannot provide the requested image or template; refused before anything starts."""

    def __init__(self, image: str, reason: str) -> None:
        super().__init__(f"Image '{image}' is not available on this Hangar: {reason}", code="IMAGE_UNAVAILABLE")


class WorkloadNotFound(RuntimeBackendError):
    """The backend has no workload with that id."""

    def __init__(self, workload_id: str) -> None:
        super().__init__("Workload not found", code="WORKLOAD_NOT_FOUND", detail=f"no workload {workload_id}")
