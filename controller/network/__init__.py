"""The network service (Neutron-compatible Network v2.0): the layer under the API."""
