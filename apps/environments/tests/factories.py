"""Test factories for the environments app."""

import factory

from apps.accounts.tests.factories import UserFactory
from apps.core.crypto import encrypt_text
from apps.environments.models import Cluster, Environment, Template, UserEnvVar

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:1
    insecure-skip-tls-verify: true
contexts:
- name: test
  context:
    cluster: test
    user: test
current-context: test
users:
- name: test
  user:
    token: not-a-real-token
"""


class TemplateFactory(factory.django.DjangoModelFactory):
    """An active python template that both runtimes can provide."""

    class Meta:
        model = Template

    name = factory.Sequence(lambda n: f"template-{n}")
    display_name = factory.Sequence(lambda n: f"Template {n}")
    category = Template.Category.PROGRAMMING_LANGUAGE
    docker_image = "python:3.11-slim"
    default_port = 8080
    default_resources = factory.LazyFunction(lambda: {"cpu": "500m", "memory": "1Gi", "storage": "10Gi"})
    startup_commands = factory.LazyFunction(lambda: ["python3 --version"])
    runtimes = factory.LazyFunction(lambda: ["local", "kubernetes"])


class EnvironmentFactory(factory.django.DjangoModelFactory):
    """An environment row in a given status, without running anything."""

    class Meta:
        model = Environment

    owner = factory.SubFactory(UserFactory)
    template = factory.SubFactory(TemplateFactory)
    name = factory.Sequence(lambda n: f"env {n}")
    docker_image = factory.LazyAttribute(lambda env: env.template.docker_image)
    port = factory.LazyAttribute(lambda env: env.template.default_port)
    resources = factory.LazyAttribute(lambda env: dict(env.template.default_resources))
    status = Environment.Status.STOPPED


class UserEnvVarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UserEnvVar

    user = factory.SubFactory(UserFactory)
    key = factory.Sequence(lambda n: f"VAR_{n}")
    value_encrypted = factory.LazyFunction(lambda: encrypt_text("secret"))


class ClusterFactory(factory.django.DjangoModelFactory):
    """A cluster whose kubeconfig points at https://127.0.0.1:1, where nothing listens."""

    class Meta:
        model = Cluster

    name = factory.Sequence(lambda n: f"cluster-{n}")
    region = "GRA"
    kubeconfig_encrypted = factory.LazyFunction(lambda: encrypt_text(KUBECONFIG))
