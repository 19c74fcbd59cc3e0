"""Views of the jobs app (003): plugins, workflows and jobs."""
